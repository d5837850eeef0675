using WirralCareRecord.Gateway.Hosting;
using WirralCareRecord.Gateway.Validation;

if (args is [ValidateCommand.Name, .. var files])
{
    return ValidateCommand.Run(files, Console.Out, Console.Error);
}

var builder = WebApplication.CreateBuilder(args);
builder.AddGateway();

var app = builder.Build();
app.MapGateway();
app.Run();
return 0;

/// <summary>The gateway's entry point; public so integration tests can host it.</summary>
public partial class Program;
