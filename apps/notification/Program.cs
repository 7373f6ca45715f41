using Ovasabi.Notification;
using Ovasabi.Notification.Data;
using Ovasabi.Notification.Grpc;
using Ovasabi.ServiceDefaults.Hosting;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults<NotificationDbContext>("notification");
builder.Services.AddNotificationService(builder.Configuration);

var app = builder.Build();
app.MapServiceDefaults<NotificationDbContext>().MapServiceGrpc<NotificationGrpcService>();
return await app.RunServiceAsync<NotificationDbContext>(args);
