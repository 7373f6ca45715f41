using System;
using System.Collections.Generic;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace Ovasabi.Notification.Data.Migrations
{
    /// <inheritdoc />
    public partial class ChannelsTemplatesDigests : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<long>(
                name: "digest_id",
                table: "service_notification_message",
                type: "bigint",
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "template_version",
                table: "service_notification_message",
                type: "integer",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AddColumn<string>(
                name: "unsubscribe_url",
                table: "service_notification_message",
                type: "character varying(1024)",
                maxLength: 1024,
                nullable: true);

            migrationBuilder.CreateTable(
                name: "service_notification_binding_rate",
                columns: table => new
                {
                    binding = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    tat = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_service_notification_binding_rate", x => x.binding);
                });

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

            migrationBuilder.CreateTable(
                name: "service_notification_template",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityAlwaysColumn),
                    key = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    channel = table.Column<string>(type: "character varying(8)", maxLength: 8, nullable: false),
                    locale = table.Column<string>(type: "character varying(35)", maxLength: 35, nullable: false),
                    current_version = table.Column<int>(type: "integer", nullable: false),
                    updated_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_service_notification_template", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "service_notification_webhook_endpoint",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityAlwaysColumn),
                    uuid = table.Column<Guid>(type: "uuid", nullable: false),
                    user_id = table.Column<Guid>(type: "uuid", nullable: false),
                    binding = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    path = table.Column<string>(type: "character varying(201)", maxLength: 201, nullable: false),
                    categories = table.Column<List<string>>(type: "text[]", nullable: false),
                    secret = table.Column<byte[]>(type: "bytea", nullable: false),
                    previous_secret = table.Column<byte[]>(type: "bytea", nullable: true),
                    previous_secret_valid_until = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    version = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_service_notification_webhook_endpoint", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "service_notification_template_version",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityAlwaysColumn),
                    template_id = table.Column<long>(type: "bigint", nullable: false),
                    version = table.Column<int>(type: "integer", nullable: false),
                    title = table.Column<string>(type: "character varying(512)", maxLength: 512, nullable: false),
                    text = table.Column<string>(type: "text", nullable: false),
                    html = table.Column<string>(type: "text", nullable: true),
                    created_by = table.Column<string>(type: "character varying(80)", maxLength: 80, nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_service_notification_template_version", x => x.id);
                    table.ForeignKey(
                        name: "fk_service_notification_template_version_service_notification_",
                        column: x => x.template_id,
                        principalTable: "service_notification_template",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
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

            migrationBuilder.CreateIndex(
                name: "ix_service_notification_template_key_channel_locale",
                table: "service_notification_template",
                columns: new[] { "key", "channel", "locale" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_service_notification_template_version_template_id_version",
                table: "service_notification_template_version",
                columns: new[] { "template_id", "version" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_service_notification_webhook_endpoint_user_id_created_at",
                table: "service_notification_webhook_endpoint",
                columns: new[] { "user_id", "created_at" });

            migrationBuilder.CreateIndex(
                name: "ix_service_notification_webhook_endpoint_uuid",
                table: "service_notification_webhook_endpoint",
                column: "uuid",
                unique: true);

            migrationBuilder.AddForeignKey(
                name: "fk_service_notification_message_service_notification_digest_di",
                table: "service_notification_message",
                column: "digest_id",
                principalTable: "service_notification_digest",
                principalColumn: "id");

            // A version is what messages were rendered with: it is appended, never rewritten.
            migrationBuilder.Sql("""
                CREATE FUNCTION notification_template_version_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN RAISE EXCEPTION 'a template version is never changed; store a new one'; END $$;
                CREATE TRIGGER tr_notification_template_version_immutable BEFORE UPDATE ON service_notification_template_version
                    FOR EACH ROW EXECUTE FUNCTION notification_template_version_immutable();
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("DROP TRIGGER tr_notification_template_version_immutable ON service_notification_template_version; DROP FUNCTION notification_template_version_immutable();");

            migrationBuilder.DropForeignKey(
                name: "fk_service_notification_message_service_notification_digest_di",
                table: "service_notification_message");

            migrationBuilder.DropTable(
                name: "service_notification_binding_rate");

            migrationBuilder.DropTable(
                name: "service_notification_digest");

            migrationBuilder.DropTable(
                name: "service_notification_template_version");

            migrationBuilder.DropTable(
                name: "service_notification_webhook_endpoint");

            migrationBuilder.DropTable(
                name: "service_notification_template");

            migrationBuilder.DropIndex(
                name: "ix_service_notification_message_digest_id",
                table: "service_notification_message");

            migrationBuilder.DropColumn(
                name: "digest_id",
                table: "service_notification_message");

            migrationBuilder.DropColumn(
                name: "template_version",
                table: "service_notification_message");

            migrationBuilder.DropColumn(
                name: "unsubscribe_url",
                table: "service_notification_message");
        }
    }
}
