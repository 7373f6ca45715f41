using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Ovasabi.Finance.Data.Migrations
{
    /// <inheritdoc />
    public partial class DailyTotalOnAccount : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<DateOnly>(
                name: "sent_on",
                table: "service_finance_account",
                type: "date",
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "sent_total",
                table: "service_finance_account",
                type: "bigint",
                nullable: false,
                defaultValue: 0L);

            // Today's sending so far (UTC), as the daily limit summed it before: withdrawals (2) and transfers (3) not
            // reversed (3).
            migrationBuilder.Sql("""
                UPDATE service_finance_account AS a
                SET sent_on = s.day, sent_total = s.total
                FROM (SELECT user_id, currency, (now() AT TIME ZONE 'UTC')::date AS day, SUM(amount) AS total
                      FROM service_finance_transaction
                      WHERE created_at >= date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'
                        AND type IN (2, 3) AND status <> 3
                      GROUP BY user_id, currency) AS s
                WHERE a.kind = 0 AND a.user_id = s.user_id AND a.currency = s.currency
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "sent_on",
                table: "service_finance_account");

            migrationBuilder.DropColumn(
                name: "sent_total",
                table: "service_finance_account");
        }
    }
}
