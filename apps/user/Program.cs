using Ovasabi.ServiceDefaults.Hosting;
using Ovasabi.User;
using Ovasabi.User.Data;
using Ovasabi.User.Grpc;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults<UserDbContext>("user");
builder.Services.AddUserService(builder.Configuration);

var app = builder.Build();
app.MapServiceDefaults<UserDbContext>().MapServiceGrpc<UserGrpcService>();
return await app.RunServiceAsync<UserDbContext>(args);
