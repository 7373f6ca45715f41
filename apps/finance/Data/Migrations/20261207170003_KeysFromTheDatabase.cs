using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace Ovasabi.Finance.Data.Migrations
{
    /// <inheritdoc />
    public partial class KeysFromTheDatabase : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
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

            // The posting writes its rows in one statement and the database gives the keys again; a new identity starts
            // at 1, so it resumes above every key the blocks gave.
            foreach (var table in Tables)
            {
                migrationBuilder.Sql($"SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE(max(id), 0) + 1, false) FROM {table}");
            }
        }

        private static readonly string[] Tables = ["service_finance_transaction", "service_finance_entry", "service_finance_audit"];

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
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
            foreach (var table in Tables)
            {
                migrationBuilder.Sql($"SELECT setval('{table}_keys', COALESCE(max(id), 0) + 1, false) FROM {table}");
            }
        }
    }
}
