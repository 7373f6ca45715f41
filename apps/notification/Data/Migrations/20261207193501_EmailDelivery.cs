using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Ovasabi.Notification.Data.Migrations
{
    /// <inheritdoc />
    public partial class EmailDelivery : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "address",
                table: "service_notification_message",
                type: "character varying(320)",
                maxLength: 320,
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "attempt_count",
                table: "service_notification_message",
                type: "integer",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AddColumn<string>(
                name: "body_html",
                table: "service_notification_message",
                type: "text",
                nullable: true);

            migrationBuilder.AddColumn<Guid>(
                name: "lease_token",
                table: "service_notification_message",
                type: "uuid",
                nullable: true);

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "lease_until",
                table: "service_notification_message",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "provider_binding",
                table: "service_notification_message",
                type: "character varying(64)",
                maxLength: 64,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "status_reason",
                table: "service_notification_message",
                type: "character varying(200)",
                maxLength: 200,
                nullable: true);

            migrationBuilder.CreateIndex(
                name: "ix_notification_message_due",
                table: "service_notification_message",
                column: "due_at",
                filter: "status = 'scheduled'");

            migrationBuilder.CreateIndex(
                name: "ix_notification_message_lease",
                table: "service_notification_message",
                column: "lease_until",
                filter: "status = 'sending'");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_notification_message_due",
                table: "service_notification_message");

            migrationBuilder.DropIndex(
                name: "ix_notification_message_lease",
                table: "service_notification_message");

            migrationBuilder.DropColumn(
                name: "address",
                table: "service_notification_message");

            migrationBuilder.DropColumn(
                name: "attempt_count",
                table: "service_notification_message");

            migrationBuilder.DropColumn(
                name: "body_html",
                table: "service_notification_message");

            migrationBuilder.DropColumn(
                name: "lease_token",
                table: "service_notification_message");

            migrationBuilder.DropColumn(
                name: "lease_until",
                table: "service_notification_message");

            migrationBuilder.DropColumn(
                name: "provider_binding",
                table: "service_notification_message");

            migrationBuilder.DropColumn(
                name: "status_reason",
                table: "service_notification_message");
        }
    }
}
