using Ovasabi.Sample;
using Ovasabi.Sample.Data;
using Ovasabi.Sample.Grpc;
using Ovasabi.ServiceDefaults.Hosting;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults<SampleDbContext>("sample");
builder.Services.AddSampleService();

var app = builder.Build();
app.MapServiceDefaults<SampleDbContext>().MapServiceGrpc<SampleGrpcService>();
return await app.RunServiceAsync<SampleDbContext>(args);
