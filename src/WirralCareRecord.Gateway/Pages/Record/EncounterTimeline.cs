using System.Globalization;
using System.Net;
using System.Text;
using WirralCareRecord.Gateway.Onboarding;

namespace WirralCareRecord.Gateway.Pages.Record;

/// <summary>
/// Encounters across settings on one time line, drawn on the server as SVG: a row per kind of setting, a mark per
/// encounter (its title says what, when and where). No script; the same encounters are listed in the table beside it.
/// </summary>
public static class EncounterTimeline
{
    private const int Width = 1000;
    private const int Left = 150;
    private const int Right = 20;
    private const int RowHeight = 34;
    private const int Top = 10;
    private const int Axis = 28;
    private static readonly string[] Colours = ["#005eb8", "#007f3b", "#330072", "#7c2855", "#4c6272"];

    public static string Draw(IReadOnlyList<RecordItem> encounters, DateOnly today)
    {
        var dated = encounters
            .Select(e => (Item: e, Day: e.Recorded is { Length: >= 10 } r && DateOnly.TryParseExact(r[..10], "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var d) ? d : (DateOnly?)null))
            .Where(e => e.Day is not null)
            .ToList();
        var rows = dated.Select(e => SettingName(e.Item.Setting)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var height = Top + (Math.Max(1, rows.Count) * RowHeight) + Axis;
        var svg = new StringBuilder();
        svg.Append(Invariant($"<svg class=\"wcr-timeline\" id=\"encounter-timeline\" role=\"img\" aria-labelledby=\"encounter-timeline-title\" viewBox=\"0 0 {Width} {height}\" xmlns=\"http://www.w3.org/2000/svg\">"));
        svg.Append(Invariant($"<title id=\"encounter-timeline-title\">Timeline of {dated.Count} encounters across {rows.Count} kinds of setting</title>"));
        if (dated.Count == 0)
        {
            svg.Append("<text x=\"10\" y=\"30\">No dated encounters.</text></svg>");
            return svg.ToString();
        }

        var first = dated.Min(e => e.Day!.Value);
        var start = new DateOnly(first.Year, 1, 1);
        var end = new DateOnly(today.Year + 1, 1, 1);
        var span = Math.Max(1, end.DayNumber - start.DayNumber);
        double X(DateOnly day) => Left + ((double)(day.DayNumber - start.DayNumber) / span * (Width - Left - Right));
        var axisY = Top + (rows.Count * RowHeight);
        svg.Append(Invariant($"<line x1=\"{Left}\" y1=\"{axisY}\" x2=\"{Width - Right}\" y2=\"{axisY}\" stroke=\"#4c6272\"/>"));
        var yearStep = Math.Max(1, (end.Year - start.Year) / 8);
        for (var year = start.Year; year <= end.Year; year += yearStep)
        {
            var x = X(new DateOnly(year, 1, 1));
            svg.Append(Invariant($"<line x1=\"{x:0.#}\" y1=\"{Top}\" x2=\"{x:0.#}\" y2=\"{axisY + 4}\" stroke=\"#d8dde0\"/>"));
            svg.Append(Invariant($"<text x=\"{x:0.#}\" y=\"{axisY + 20}\" text-anchor=\"middle\">{year}</text>"));
        }

        for (var r = 0; r < rows.Count; r++)
        {
            var y = Top + (r * RowHeight) + (RowHeight / 2);
            svg.Append(Invariant($"<text x=\"{Left - 10}\" y=\"{y + 4}\" text-anchor=\"end\">{Encode(rows[r])}</text>"));
            svg.Append(Invariant($"<line x1=\"{Left}\" y1=\"{y}\" x2=\"{Width - Right}\" y2=\"{y}\" stroke=\"#f0f4f5\"/>"));
            foreach (var (item, day) in dated.Where(e => SettingName(e.Item.Setting) == rows[r]))
            {
                svg.Append(Invariant($"<circle cx=\"{X(day!.Value):0.#}\" cy=\"{y}\" r=\"6\" fill=\"{Colours[r % Colours.Length]}\" fill-opacity=\"0.8\"><title>{Encode($"{item.What}, {item.When} ({item.SourceNames})")}</title></circle>"));
            }
        }

        svg.Append("</svg>");
        return svg.ToString();
    }

    private static string SettingName(OrganisationKind? kind) => kind switch
    {
        OrganisationKind.GpPractice => "GP practice",
        OrganisationKind.AcuteTrust => "Hospital",
        OrganisationKind.CommunityTrust => "Community",
        OrganisationKind.MentalHealthTrust => "Mental health",
        OrganisationKind.SocialCare => "Social care",
        _ => "Other",
    };

    private static string Encode(string text) => WebUtility.HtmlEncode(text);

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
