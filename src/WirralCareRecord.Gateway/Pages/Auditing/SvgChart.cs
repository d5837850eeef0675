using System.Globalization;
using System.Net;
using System.Text;

namespace WirralCareRecord.Gateway.Pages.Auditing;

/// <summary>
/// Bar and line charts drawn on the server as SVG: no script, nothing to fail in the browser, and the same figures are
/// always given as a table beside them for screen readers.
/// </summary>
public static class SvgChart
{
    private const int Width = 720;
    private const int Height = 260;
    private const int Left = 48;
    private const int Bottom = 40;
    private const int Top = 16;
    private static readonly string[] Colours = ["#005eb8", "#007f3b", "#d5281b", "#ffb81c"];

    public static string Bars(string id, string title, IReadOnlyList<string> labels, IReadOnlyList<int> values) =>
        Draw(id, title, labels, [(title, values)], bars: true);

    public static string Lines(string id, string title, IReadOnlyList<string> labels, IReadOnlyList<(string Name, IReadOnlyList<int> Values)> series) =>
        Draw(id, title, labels, series, bars: false);

    private static string Draw(string id, string title, IReadOnlyList<string> labels, IReadOnlyList<(string Name, IReadOnlyList<int> Values)> series, bool bars)
    {
        var max = Math.Max(1, series.SelectMany(s => s.Values).DefaultIfEmpty(0).Max());
        var plotWidth = Width - Left - 16;
        var plotHeight = Height - Top - Bottom;
        var step = labels.Count == 0 ? plotWidth : (double)plotWidth / labels.Count;
        double X(int i) => Left + (step * i) + (step / 2);
        double Y(int v) => Top + plotHeight - ((double)v / max * plotHeight);
        var svg = new StringBuilder();
        svg.Append(Invariant($"<svg class=\"wcr-chart\" id=\"{id}\" role=\"img\" aria-labelledby=\"{id}-title\" viewBox=\"0 0 {Width} {Height}\" width=\"{Width}\" height=\"{Height}\" xmlns=\"http://www.w3.org/2000/svg\">"));
        svg.Append(Invariant($"<title id=\"{id}-title\">{Encode(title)}</title>"));
        svg.Append(Invariant($"<line x1=\"{Left}\" y1=\"{Top + plotHeight}\" x2=\"{Width - 16}\" y2=\"{Top + plotHeight}\" stroke=\"#4c6272\"/>"));
        svg.Append(Invariant($"<text x=\"{Left - 6}\" y=\"{Top + 4}\" text-anchor=\"end\">{max}</text><text x=\"{Left - 6}\" y=\"{Top + plotHeight}\" text-anchor=\"end\">0</text>"));
        for (var s = 0; s < series.Count; s++)
        {
            var (name, values) = series[s];
            var colour = Colours[s % Colours.Length];
            if (bars)
            {
                var barWidth = Math.Max(2, (step / series.Count) * 0.7);
                for (var i = 0; i < values.Count; i++)
                {
                    svg.Append(Invariant($"<rect x=\"{X(i) - (barWidth / 2):0.#}\" y=\"{Y(values[i]):0.#}\" width=\"{barWidth:0.#}\" height=\"{Top + plotHeight - Y(values[i]):0.#}\" fill=\"{colour}\"><title>{Encode(labels[i])}: {values[i]}</title></rect>"));
                }
            }
            else
            {
                var points = string.Join(" ", values.Select((v, i) => Invariant($"{X(i):0.#},{Y(v):0.#}")));
                svg.Append(Invariant($"<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"3\" points=\"{points}\"/>"));
                for (var i = 0; i < values.Count; i++)
                {
                    svg.Append(Invariant($"<circle cx=\"{X(i):0.#}\" cy=\"{Y(values[i]):0.#}\" r=\"4\" fill=\"{colour}\"><title>{Encode(name)}, {Encode(labels[i])}: {values[i]}</title></circle>"));
                }

                svg.Append(Invariant($"<rect x=\"{Left + (s * 180)}\" y=\"{Height - 14}\" width=\"12\" height=\"12\" fill=\"{colour}\"/><text x=\"{Left + (s * 180) + 18}\" y=\"{Height - 4}\">{Encode(name)}</text>"));
            }
        }

        // Label at most about a dozen periods, so labels never overlap at tablet widths.
        var every = Math.Max(1, (int)Math.Ceiling(labels.Count / 12.0));
        for (var i = 0; i < labels.Count; i += every)
        {
            svg.Append(Invariant($"<text x=\"{X(i):0.#}\" y=\"{Top + plotHeight + 16}\" text-anchor=\"middle\">{Encode(labels[i])}</text>"));
        }

        svg.Append("</svg>");
        return svg.ToString();
    }

    private static string Encode(string text) => WebUtility.HtmlEncode(text);

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
