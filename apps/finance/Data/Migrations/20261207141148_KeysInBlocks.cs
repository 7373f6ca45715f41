using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace Ovasabi.Finance.Data.Migrations
{
    /// <inheritdoc />
    public partial class KeysInBlocks : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateSequence(
                name: "service_finance_audit_keys",
                incrementBy: 100);

            migrationBuilder.CreateSequence(
                name: "service_finance_entry_keys",
                incrementBy: 100);

            migrationBuilder.CreateSequence(
                name: "service_finance_transaction_keys",
                incrementBy: 100);

            migrationBuilder.AlterColumn<long>(
                name: "id",
                table: "service_finance_transaction",
                type: "bigint",
                nullable: false,
                oldClrType: typeof(long),
                oldType: "bigint")
                .OldAnnotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityAlwaysColumn);

            migrationBuilder.AlterColumn<long>(
                name: "id",
                table: "service_finance_entry",
                type: "bigint",
                nullable: false,
                oldClrType: typeof(long),
                oldType: "bigint")
                .OldAnnotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityAlwaysColumn);

            migrationBuilder.AlterColumn<long>(
                name: "id",
                table: "service_finance_audit",
                type: "bigint",
                nullable: false,
                oldClrType: typeof(long),
                oldType: "bigint")
                .OldAnnotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityAlwaysColumn);

            // EF takes a block from nextval on: the first block starts above every key the identity columns gave.
            foreach (var (sequence, table) in new[]
            {
                ("service_finance_transaction_keys", "service_finance_transaction"),
                ("service_finance_entry_keys", "service_finance_entry"),
                ("service_finance_audit_keys", "service_finance_audit"),
            })
            {
                migrationBuilder.Sql($"SELECT setval('{sequence}', COALESCE(max(id), 0) + 1, false) FROM {table}");
            }
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropSequence(
                name: "service_finance_audit_keys");

            migrationBuilder.DropSequence(
                name: "service_finance_entry_keys");

            migrationBuilder.DropSequence(
                name: "service_finance_transaction_keys");

            migrationBuilder.AlterColumn<long>(
                name: "id",
                table: "service_finance_transaction",
                type: "bigint",
                nullable: false,
                oldClrType: typeof(long),
                oldType: "bigint")
                .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityAlwaysColumn);

            migrationBuilder.AlterColumn<long>(
                name: "id",
                table: "service_finance_entry",
                type: "bigint",
                nullable: false,
                oldClrType: typeof(long),
                oldType: "bigint")
                .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityAlwaysColumn);

            migrationBuilder.AlterColumn<long>(
                name: "id",
                table: "service_finance_audit",
                type: "bigint",
                nullable: false,
                oldClrType: typeof(long),
                oldType: "bigint")
                .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityAlwaysColumn);
        }
    }
}
