using Ovasabi.Finance;
using Ovasabi.Finance.Data;
using Ovasabi.Finance.Grpc;
using Ovasabi.ServiceDefaults.Hosting;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults<FinanceDbContext>("finance");
builder.Services.AddFinanceService(builder.Configuration);

var app = builder.Build();
app.MapServiceDefaults<FinanceDbContext>().MapServiceGrpc<FinanceGrpcService>();
return await app.RunServiceAsync<FinanceDbContext>(args);
