using Microsoft.Extensions.Options;

namespace WirralCareRecord.Gateway.Validation;

/// <summary>Loads the definitions and compiles the Wirral profiles in the background at start-up (see <see cref="ValidationOptions.WarmUp"/>).</summary>
internal sealed class ProfilesWarmUp(ProfileLibrary library, IOptions<ValidationOptions> options) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.WarmUp)
        {
            return;
        }

        try
        {
            await library.ReadyAsync().WaitAsync(stoppingToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Already logged by the library; the readiness check reports it. The gateway keeps serving records.
        }
    }
}
