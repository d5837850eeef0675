namespace WirralCareRecord.Gateway.Tests.Common;

/// <summary>
/// The real clock moved by <see cref="Offset"/>: dates move (agreements expire, flow tests age) while timers, timeouts
/// and polling still run in real time, as they would in a gateway left running overnight.
/// </summary>
public sealed class ShiftedTimeProvider : TimeProvider
{
    public TimeSpan Offset { get; set; }

    public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + Offset;
}
