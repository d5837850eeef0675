using WirralCareRecord.Gateway.Hosting;

var builder = WebApplication.CreateBuilder(args);
builder.AddGateway();

var app = builder.Build();
app.MapGateway();
app.Run();

/// <summary>The gateway's entry point; public so integration tests can host it.</summary>
public partial class Program;
