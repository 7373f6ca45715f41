using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace Ovasabi.Notification.Data.Migrations
{
    /// <inheritdoc />
    public partial class Digests : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<long>(
                name: "digest_id",
                table: "service_notification_message",
                type: "bigint",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "service_notification_digest",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityAlwaysColumn),
                    uuid = table.Column<Guid>(type: "uuid", nullable: false),
                    recipient_key = table.Column<string>(type: "character varying(80)", maxLength: 80, nullable: false),
                    channel = table.Column<string>(type: "character varying(8)", maxLength: 8, nullable: false),
                    key = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    status = table.Column<string>(type: "character varying(8)", maxLength: 8, nullable: false),
                    opened_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    closes_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    result_message_id = table.Column<long>(type: "bigint", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_service_notification_digest", x => x.id);
                    table.CheckConstraint("ck_notification_digest_status", "status IN ('open','flushed')");
                });

            migrationBuilder.CreateIndex(
                name: "ix_service_notification_message_digest_id",
                table: "service_notification_message",
                column: "digest_id");

            migrationBuilder.CreateIndex(
                name: "ix_notification_digest_closes",
                table: "service_notification_digest",
                column: "closes_at",
                filter: "status = 'open'");

            migrationBuilder.CreateIndex(
                name: "ix_service_notification_digest_uuid",
                table: "service_notification_digest",
                column: "uuid",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ux_notification_digest_open",
                table: "service_notification_digest",
                columns: new[] { "recipient_key", "channel", "key" },
                unique: true,
                filter: "status = 'open'");

            migrationBuilder.AddForeignKey(
                name: "fk_service_notification_message_service_notification_digest_di",
                table: "service_notification_message",
                column: "digest_id",
                principalTable: "service_notification_digest",
                principalColumn: "id");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropForeignKey(
                name: "fk_service_notification_message_service_notification_digest_di",
                table: "service_notification_message");

            migrationBuilder.DropTable(
                name: "service_notification_digest");

            migrationBuilder.DropIndex(
                name: "ix_service_notification_message_digest_id",
                table: "service_notification_message");

            migrationBuilder.DropColumn(
                name: "digest_id",
                table: "service_notification_message");
        }
    }
}
