using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace Ovasabi.Finance.Data.Migrations
{
    /// <inheritdoc />
    public partial class InitialSchema : Migration
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

            migrationBuilder.CreateTable(
                name: "service_finance_account",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityAlwaysColumn),
                    master_id = table.Column<long>(type: "bigint", nullable: false),
                    kind = table.Column<int>(type: "integer", nullable: false),
                    user_id = table.Column<Guid>(type: "uuid", nullable: true),
                    currency = table.Column<string>(type: "character(3)", fixedLength: true, maxLength: 3, nullable: false),
                    available = table.Column<long>(type: "bigint", nullable: false),
                    held = table.Column<long>(type: "bigint", nullable: false),
                    version = table.Column<long>(type: "bigint", nullable: false),
                    updated_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    metadata = table.Column<string>(type: "jsonb", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_service_finance_account", x => x.id);
                    table.CheckConstraint("ck_service_finance_account_not_negative", "kind <> 0 OR (available >= 0 AND held >= 0)");
                    table.ForeignKey(
                        name: "fk_service_finance_account_master_master_id",
                        column: x => x.master_id,
                        principalTable: "master",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "service_finance_transaction",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityAlwaysColumn),
                    master_id = table.Column<long>(type: "bigint", nullable: false),
                    type = table.Column<int>(type: "integer", nullable: false),
                    status = table.Column<int>(type: "integer", nullable: false),
                    user_id = table.Column<Guid>(type: "uuid", nullable: false),
                    counterparty_user_id = table.Column<Guid>(type: "uuid", nullable: true),
                    currency = table.Column<string>(type: "character(3)", fixedLength: true, maxLength: 3, nullable: false),
                    amount = table.Column<long>(type: "bigint", nullable: false),
                    related_transaction_id = table.Column<long>(type: "bigint", nullable: true),
                    idempotency_scope = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    idempotency_key = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    request_hash = table.Column<byte[]>(type: "bytea", nullable: false),
                    result = table.Column<byte[]>(type: "bytea", nullable: false),
                    description = table.Column<string>(type: "character varying(500)", maxLength: 500, nullable: false),
                    actor = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    metadata = table.Column<string>(type: "jsonb", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_service_finance_transaction", x => x.id);
                    table.CheckConstraint("ck_service_finance_transaction_amount_positive", "amount > 0");
                    table.ForeignKey(
                        name: "fk_service_finance_transaction_master_master_id",
                        column: x => x.master_id,
                        principalTable: "master",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "fk_service_finance_transaction_service_finance_transaction_rel",
                        column: x => x.related_transaction_id,
                        principalTable: "service_finance_transaction",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateTable(
                name: "service_finance_audit",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityAlwaysColumn),
                    transaction_id = table.Column<long>(type: "bigint", nullable: true),
                    actor = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    action = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    before = table.Column<string>(type: "jsonb", nullable: false),
                    after = table.Column<string>(type: "jsonb", nullable: false),
                    request_id = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: true),
                    trace_id = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: true),
                    occurred_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_service_finance_audit", x => x.id);
                    table.ForeignKey(
                        name: "fk_service_finance_audit_service_finance_transaction_transacti",
                        column: x => x.transaction_id,
                        principalTable: "service_finance_transaction",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateTable(
                name: "service_finance_entry",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityAlwaysColumn),
                    transaction_id = table.Column<long>(type: "bigint", nullable: false),
                    account_id = table.Column<long>(type: "bigint", nullable: false),
                    bucket = table.Column<int>(type: "integer", nullable: false),
                    amount = table.Column<long>(type: "bigint", nullable: false),
                    currency = table.Column<string>(type: "character(3)", fixedLength: true, maxLength: 3, nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_service_finance_entry", x => x.id);
                    table.CheckConstraint("ck_service_finance_entry_amount_not_zero", "amount <> 0");
                    table.ForeignKey(
                        name: "fk_service_finance_entry_service_finance_account_account_id",
                        column: x => x.account_id,
                        principalTable: "service_finance_account",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                    table.ForeignKey(
                        name: "fk_service_finance_entry_service_finance_transaction_transacti",
                        column: x => x.transaction_id,
                        principalTable: "service_finance_transaction",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
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
                name: "ix_service_finance_account_kind_currency",
                table: "service_finance_account",
                columns: new[] { "kind", "currency" },
                unique: true,
                filter: "kind <> 0");

            migrationBuilder.CreateIndex(
                name: "ix_service_finance_account_master_id",
                table: "service_finance_account",
                column: "master_id",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_service_finance_account_user_id_currency",
                table: "service_finance_account",
                columns: new[] { "user_id", "currency" },
                unique: true,
                filter: "kind = 0");

            migrationBuilder.CreateIndex(
                name: "ix_service_finance_audit_occurred_at",
                table: "service_finance_audit",
                column: "occurred_at");

            migrationBuilder.CreateIndex(
                name: "ix_service_finance_audit_transaction_id",
                table: "service_finance_audit",
                column: "transaction_id");

            migrationBuilder.CreateIndex(
                name: "ix_service_finance_entry_account_id_created_at",
                table: "service_finance_entry",
                columns: new[] { "account_id", "created_at" });

            migrationBuilder.CreateIndex(
                name: "ix_service_finance_entry_transaction_id",
                table: "service_finance_entry",
                column: "transaction_id");

            migrationBuilder.CreateIndex(
                name: "ix_service_finance_transaction_counterparty_user_id_created_at",
                table: "service_finance_transaction",
                columns: new[] { "counterparty_user_id", "created_at", "id" },
                filter: "counterparty_user_id IS NOT NULL");

            migrationBuilder.CreateIndex(
                name: "ix_service_finance_transaction_idempotency_scope_idempotency_k",
                table: "service_finance_transaction",
                columns: new[] { "idempotency_scope", "idempotency_key" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_service_finance_transaction_master_id",
                table: "service_finance_transaction",
                column: "master_id",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_service_finance_transaction_related_transaction_id",
                table: "service_finance_transaction",
                column: "related_transaction_id");

            migrationBuilder.CreateIndex(
                name: "ix_service_finance_transaction_user_id_created_at_id",
                table: "service_finance_transaction",
                columns: new[] { "user_id", "created_at", "id" });

            // The ledger's rules, kept by the database whatever code writes to it: a transaction's entries sum to zero
            // (checked at commit, once all of them are in), and entries and audit rows are never changed or removed.
            migrationBuilder.Sql("""
                CREATE FUNCTION finance_check_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                  IF (SELECT sum(amount) FROM service_finance_entry WHERE transaction_id = NEW.transaction_id) <> 0 THEN
                    RAISE EXCEPTION 'ledger entries of transaction % do not sum to zero', NEW.transaction_id USING ERRCODE = 'check_violation';
                  END IF;
                  RETURN NULL;
                END $$;
                CREATE CONSTRAINT TRIGGER service_finance_entry_balanced AFTER INSERT ON service_finance_entry
                  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION finance_check_balanced();
                CREATE FUNCTION finance_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                  RAISE EXCEPTION '% rows are immutable', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
                END $$;
                CREATE TRIGGER service_finance_entry_immutable BEFORE UPDATE OR DELETE ON service_finance_entry
                  FOR EACH ROW EXECUTE FUNCTION finance_refuse_change();
                CREATE TRIGGER service_finance_entry_no_truncate BEFORE TRUNCATE ON service_finance_entry
                  FOR EACH STATEMENT EXECUTE FUNCTION finance_refuse_change();
                CREATE TRIGGER service_finance_audit_immutable BEFORE UPDATE OR DELETE ON service_finance_audit
                  FOR EACH ROW EXECUTE FUNCTION finance_refuse_change();
                CREATE TRIGGER service_finance_audit_no_truncate BEFORE TRUNCATE ON service_finance_audit
                  FOR EACH STATEMENT EXECUTE FUNCTION finance_refuse_change();
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "processed_message");

            migrationBuilder.DropTable(
                name: "service_event");

            migrationBuilder.DropTable(
                name: "service_finance_audit");

            migrationBuilder.DropTable(
                name: "service_finance_entry");

            migrationBuilder.DropTable(
                name: "service_finance_account");

            migrationBuilder.DropTable(
                name: "service_finance_transaction");

            migrationBuilder.DropTable(
                name: "master");

            migrationBuilder.Sql("DROP FUNCTION IF EXISTS finance_check_balanced(); DROP FUNCTION IF EXISTS finance_refuse_change();");
        }
    }
}
