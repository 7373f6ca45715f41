using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace Ovasabi.Notification.Data.Migrations
{
    /// <inheritdoc />
    public partial class PreferencesAndRecords : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "service_notification_message_history",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityAlwaysColumn),
                    message_id = table.Column<long>(type: "bigint", nullable: false),
                    status = table.Column<string>(type: "character varying(12)", maxLength: 12, nullable: false),
                    reason = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: true),
                    actor = table.Column<string>(type: "character varying(80)", maxLength: 80, nullable: false),
                    attempt = table.Column<int>(type: "integer", nullable: true),
                    binding = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                    outcome = table.Column<string>(type: "character varying(12)", maxLength: 12, nullable: true),
                    duration_ms = table.Column<int>(type: "integer", nullable: true),
                    at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_service_notification_message_history", x => x.id);
                    table.ForeignKey(
                        name: "fk_service_notification_message_history_messages_message_id",
                        column: x => x.message_id,
                        principalTable: "service_notification_message",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "service_notification_preference",
                columns: table => new
                {
                    user_id = table.Column<Guid>(type: "uuid", nullable: false),
                    global_mute = table.Column<bool>(type: "boolean", nullable: false),
                    quiet_start = table.Column<TimeOnly>(type: "time without time zone", nullable: true),
                    quiet_end = table.Column<TimeOnly>(type: "time without time zone", nullable: true),
                    time_zone = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                    locale = table.Column<string>(type: "character varying(35)", maxLength: 35, nullable: true),
                    sms_number = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: true),
                    rules = table.Column<string>(type: "jsonb", nullable: false),
                    version = table.Column<long>(type: "bigint", nullable: false),
                    updated_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_service_notification_preference", x => x.user_id);
                    table.CheckConstraint("ck_notification_preference_quiet", "(quiet_start IS NULL) = (quiet_end IS NULL)");
                });

            migrationBuilder.CreateTable(
                name: "service_notification_unsubscribe_use",
                columns: table => new
                {
                    token_hash = table.Column<byte[]>(type: "bytea", nullable: false),
                    user_id = table.Column<Guid>(type: "uuid", nullable: false),
                    category = table.Column<string>(type: "character varying(40)", maxLength: 40, nullable: false),
                    channel = table.Column<string>(type: "character varying(8)", maxLength: 8, nullable: false),
                    used_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_service_notification_unsubscribe_use", x => x.token_hash);
                });

            migrationBuilder.CreateIndex(
                name: "ix_notification_message_failed",
                table: "service_notification_message",
                columns: new[] { "created_at", "uuid" },
                descending: new bool[0],
                filter: "status = 'failed'");

            migrationBuilder.CreateIndex(
                name: "ix_notification_message_recent",
                table: "service_notification_message",
                columns: new[] { "recipient_key", "channel", "category", "created_at" });

            migrationBuilder.CreateIndex(
                name: "ix_notification_message_user",
                table: "service_notification_message",
                columns: new[] { "recipient_user_id", "created_at", "uuid" },
                descending: new[] { false, true, true });

            migrationBuilder.CreateIndex(
                name: "ix_service_notification_message_history_message_id_id",
                table: "service_notification_message_history",
                columns: new[] { "message_id", "id" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "service_notification_message_history");

            migrationBuilder.DropTable(
                name: "service_notification_preference");

            migrationBuilder.DropTable(
                name: "service_notification_unsubscribe_use");

            migrationBuilder.DropIndex(
                name: "ix_notification_message_failed",
                table: "service_notification_message");

            migrationBuilder.DropIndex(
                name: "ix_notification_message_recent",
                table: "service_notification_message");

            migrationBuilder.DropIndex(
                name: "ix_notification_message_user",
                table: "service_notification_message");
        }
    }
}
