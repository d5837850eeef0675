using System.Globalization;
using System.Text.Encodings.Web;
using WirralCareRecord.Gateway.Federation;

namespace WirralCareRecord.Gateway.Pages.Record;

/// <summary>
/// Writes a read's progress into the record page as it happens: a list item per source asked, then one per answer,
/// each sent to the browser at once. Plain HTML appended to a list, so it works without JavaScript; the page's CSS hides
/// the list once the record (or the reason it is not shown) follows it. Only organisation names and how each call went
/// are written here: this runs before the read is audited.
/// </summary>
internal sealed class StreamedProgress(TextWriter output, Func<Task> flush) : IReadProgress
{
    /// <summary>Where a page leaves its streamed read for the layout to run (see the layout).</summary>
    public const string ViewDataKey = "wcr-streamed-read";

    private static readonly HtmlEncoder Encoder = HtmlEncoder.Default;
    private bool _open;

    public async ValueTask ReportAsync(SourceProgress progress)
    {
        if (!_open)
        {
            _open = true;
            await output.WriteAsync(
                "<section class=\"wcr-progress\" aria-labelledby=\"progress-title\" data-testid=\"progress\">" +
                "<h1 class=\"nhsuk-heading-m\" id=\"progress-title\">Opening the record</h1>" +
                "<p class=\"nhsuk-body-s\">Each organisation is asked at once; their answers are listed as they arrive.</p>" +
                "<ul class=\"wcr-progress__list\" role=\"status\">");
        }

        var (state, text) = progress.State switch
        {
            SourceProgressState.Asking => ("asking", "asked, waiting for an answer"),
            SourceProgressState.Answered => ("answered", "answered"),
            SourceProgressState.TimedOut => ("timed-out", $"did not answer in time ({Seconds(progress.Elapsed)})"),
            SourceProgressState.NotAsked => ("not-asked", "not asked: it has been failing"),
            _ => ("failed", "could not be read"),
        };
        await output.WriteAsync(
            $"<li class=\"wcr-progress__item wcr-progress__item--{state}\" data-testid=\"progress-source\" data-ods=\"{Encoder.Encode(progress.OdsCode)}\" data-state=\"{state}\">" +
            $"<strong>{Encoder.Encode(progress.Name)}</strong> {text}</li>");
        await flush();
    }

    /// <summary>Closes the list, if anything was written.</summary>
    public async Task CloseAsync()
    {
        if (_open)
        {
            await output.WriteAsync("</ul></section>");
        }
    }

    private static string Seconds(TimeSpan elapsed) => elapsed.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture) + " s";
}
