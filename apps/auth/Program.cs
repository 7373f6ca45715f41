using Ovasabi.Auth;
using Ovasabi.Auth.Data;
using Ovasabi.Auth.Grpc;
using Ovasabi.ServiceDefaults.Hosting;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults<AuthDbContext>("auth");
builder.Services.AddAuthService(builder.Configuration);

var app = builder.Build();
app.MapServiceDefaults<AuthDbContext>(management => management.MapJwks()).MapServiceGrpc<AuthGrpcService>();
return await app.RunServiceAsync<AuthDbContext>(args);
