using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace Ovasabi.Notification.Data.Migrations
{
    /// <inheritdoc />
    public partial class Initial : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "master",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityAlwaysColumn),
                    uuid = table.Column<Guid>(type: "uuid", nullable: false),
                    type = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    name = table.Column<string>(type: "character varying(255)", maxLength: 255, nullable: false),
                    description = table.Column<string>(type: "text", nullable: true),
                    version = table.Column<long>(type: "bigint", nullable: false),
                    is_active = table.Column<bool>(type: "boolean", nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    updated_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_master", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "processed_message",
                columns: table => new
                {
                    message_id = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    consumer = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    processed_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_processed_message", x => new { x.message_id, x.consumer });
                });

            migrationBuilder.CreateTable(
                name: "service_notification_known_address",
                columns: table => new
                {
                    user_id = table.Column<Guid>(type: "uuid", nullable: false),
                    address_hash = table.Column<byte[]>(type: "bytea", nullable: false),
                    first_seen = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    last_seen = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_service_notification_known_address", x => new { x.user_id, x.address_hash });
                });

            migrationBuilder.CreateTable(
                name: "service_notification_message",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityAlwaysColumn),
                    uuid = table.Column<Guid>(type: "uuid", nullable: false),
                    source_key = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    recipient_key = table.Column<string>(type: "character varying(80)", maxLength: 80, nullable: false),
                    recipient_user_id = table.Column<Guid>(type: "uuid", nullable: true),
                    channel = table.Column<string>(type: "character varying(8)", maxLength: 8, nullable: false),
                    category = table.Column<string>(type: "character varying(40)", maxLength: 40, nullable: false),
                    critical = table.Column<bool>(type: "boolean", nullable: false),
                    notification_key = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    locale = table.Column<string>(type: "character varying(35)", maxLength: 35, nullable: false),
                    subject = table.Column<string>(type: "character varying(512)", maxLength: 512, nullable: false),
                    body_text = table.Column<string>(type: "text", nullable: false),
                    body_html = table.Column<string>(type: "text", nullable: true),
                    address = table.Column<string>(type: "character varying(320)", maxLength: 320, nullable: true),
                    data = table.Column<string>(type: "jsonb", nullable: false),
                    status = table.Column<string>(type: "character varying(12)", maxLength: 12, nullable: false),
                    status_reason = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: true),
                    due_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    attempt_count = table.Column<int>(type: "integer", nullable: false),
                    lease_token = table.Column<Guid>(type: "uuid", nullable: true),
                    lease_until = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    provider_binding = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                    sent_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    read_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    updated_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    version = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_service_notification_message", x => x.id);
                    table.CheckConstraint("ck_notification_message_channel", "channel IN ('email','sms','webhook','in_app')");
                    table.CheckConstraint("ck_notification_message_status", "status IN ('scheduled','sending','sent','failed','throttled','suppressed','read','digested','canceled')");
                });

            migrationBuilder.CreateTable(
                name: "service_notification_send_request",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityAlwaysColumn),
                    caller = table.Column<string>(type: "character varying(80)", maxLength: 80, nullable: false),
                    idempotency_key = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    fingerprint = table.Column<byte[]>(type: "bytea", nullable: false),
                    response = table.Column<string>(type: "jsonb", nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_service_notification_send_request", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "service_event",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    master_id = table.Column<long>(type: "bigint", nullable: true),
                    event_type = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    payload = table.Column<string>(type: "jsonb", nullable: false),
                    occurred_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    published_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    attempts = table.Column<int>(type: "integer", nullable: false),
                    next_attempt_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    last_error = table.Column<string>(type: "text", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_service_event", x => x.id);
                    table.ForeignKey(
                        name: "fk_service_event_master_master_id",
                        column: x => x.master_id,
                        principalTable: "master",
                        principalColumn: "id",
                        onDelete: ReferentialAction.SetNull);
                });

            migrationBuilder.CreateIndex(
                name: "ix_master_type_name",
                table: "master",
                columns: new[] { "type", "name" });

            migrationBuilder.CreateIndex(
                name: "ix_master_uuid",
                table: "master",
                column: "uuid",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_service_event_event_type",
                table: "service_event",
                column: "event_type");

            migrationBuilder.CreateIndex(
                name: "ix_service_event_master_id",
                table: "service_event",
                column: "master_id");

            migrationBuilder.CreateIndex(
                name: "ix_service_event_unpublished",
                table: "service_event",
                column: "occurred_at",
                filter: "published_at IS NULL");

            migrationBuilder.CreateIndex(
                name: "ix_notification_message_due",
                table: "service_notification_message",
                column: "due_at",
                filter: "status = 'scheduled'");

            migrationBuilder.CreateIndex(
                name: "ix_notification_message_inbox",
                table: "service_notification_message",
                columns: new[] { "recipient_user_id", "created_at", "uuid" },
                descending: new[] { false, true, true },
                filter: "channel = 'in_app'");

            migrationBuilder.CreateIndex(
                name: "ix_notification_message_lease",
                table: "service_notification_message",
                column: "lease_until",
                filter: "status = 'sending'");

            migrationBuilder.CreateIndex(
                name: "ix_notification_message_unread",
                table: "service_notification_message",
                column: "recipient_user_id",
                filter: "channel = 'in_app' AND read_at IS NULL");

            migrationBuilder.CreateIndex(
                name: "ix_service_notification_message_uuid",
                table: "service_notification_message",
                column: "uuid",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ux_notification_message_once",
                table: "service_notification_message",
                columns: new[] { "source_key", "recipient_key", "channel" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_service_notification_send_request_caller_idempotency_key",
                table: "service_notification_send_request",
                columns: new[] { "caller", "idempotency_key" },
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "processed_message");

            migrationBuilder.DropTable(
                name: "service_event");

            migrationBuilder.DropTable(
                name: "service_notification_known_address");

            migrationBuilder.DropTable(
                name: "service_notification_message");

            migrationBuilder.DropTable(
                name: "service_notification_send_request");

            migrationBuilder.DropTable(
                name: "master");
        }
    }
}
