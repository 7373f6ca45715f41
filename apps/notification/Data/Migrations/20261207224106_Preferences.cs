using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Ovasabi.Notification.Data.Migrations
{
    /// <inheritdoc />
    public partial class Preferences : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
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
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "service_notification_preference");

            migrationBuilder.DropTable(
                name: "service_notification_unsubscribe_use");
        }
    }
}
