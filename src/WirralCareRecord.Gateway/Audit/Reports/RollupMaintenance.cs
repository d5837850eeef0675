using Microsoft.Extensions.Options;

namespace WirralCareRecord.Gateway.Audit;

/// <summary>
/// Keeps roll-ups current without waiting for a report to ask: every <see cref="AuditOptions.RollupInterval"/> it makes
/// sure each sealed day of the last week has one, and last month too once it is sealed. Every instance runs it; the stores are conditional, so they never
/// clash, and a roll-up built twice is the same.
/// </summary>
internal sealed partial class RollupMaintenance(AuditRollups rollups, TimeProvider time, IOptions<AuditOptions> options, ILogger<RollupMaintenance> logger)
    : BackgroundService
{
    private const int DaysKept = 7;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.Value.RollupInterval <= TimeSpan.Zero)
        {
            return;
        }

        using var timer = new PeriodicTimer(options.Value.RollupInterval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            var today = DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime);
            for (var day = today.AddDays(-DaysKept); day < today; day = day.AddDays(1))
            {
                try
                {
                    if (rollups.IsSealed(day))
                    {
                        await rollups.GetAsync(day, fromRawLog: false, stoppingToken);
                    }
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // Storage may be down; the next tick, or the next report, tries again. It must never stop the host.
                    Log.RollupFailed(logger, day, ex);
                }
            }

            // Last month is made once, soon after its last day is sealed, so no auditor waits while a report makes it.
            var lastMonth = MonthRollup.MonthOf(today).AddMonths(-1);
            try
            {
                if (rollups.IsMonthSealed(lastMonth))
                {
                    await rollups.GetMonthAsync(lastMonth, stoppingToken);
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                Log.MonthRollupFailed(logger, lastMonth, ex);
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 521, Level = LogLevel.Warning, Message = "Audit roll-up for {Day} could not be made; it will be retried")]
        public static partial void RollupFailed(ILogger logger, DateOnly day, Exception exception);

        [LoggerMessage(EventId = 525, Level = LogLevel.Warning, Message = "Audit month roll-up for {Month} could not be made; it will be retried")]
        public static partial void MonthRollupFailed(ILogger logger, DateOnly month, Exception exception);
    }
}
