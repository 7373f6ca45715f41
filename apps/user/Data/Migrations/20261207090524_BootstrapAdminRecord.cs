using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Ovasabi.User.Data.Migrations
{
    /// <inheritdoc />
    public partial class BootstrapAdminRecord : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "service_user_bootstrap_admin",
                columns: table => new
                {
                    username_key = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    email_key = table.Column<string>(type: "character varying(254)", maxLength: 254, nullable: false),
                    user_id = table.Column<Guid>(type: "uuid", nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_service_user_bootstrap_admin", x => x.username_key);
                });

            // The "service" role is gone: other apps act by their grants in the access table (protos/ovasabi/access.yaml),
            // never as a user holding a role, so an account that held it loses it.
            migrationBuilder.Sql("DELETE FROM service_user_role WHERE role = 'service'");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "service_user_bootstrap_admin");
        }
    }
}
