using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Ovasabi.Notification.Data.Migrations
{
    /// <inheritdoc />
    public partial class SmsNumber : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "sms_number",
                table: "service_notification_preference",
                type: "character varying(16)",
                maxLength: 16,
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "sms_number",
                table: "service_notification_preference");
        }
    }
}
