using System.Globalization;
using System.Text;

namespace Cue.Bench;

/// <summary>
/// The firing-lag distribution as a histogram in plain SVG (no library): 5 ms bins up to a little past
/// the p99 (at least the 250 ms target), one overflow bar, p50/p99 marked, the two targets as dashed lines.
/// </summary>
internal static class LagChart
{
    public static string Render(IReadOnlyList<double> sortedLags, string title)
    {
        const int Width = 820, Height = 360, Left = 60, Right = 20, Top = 50, Bottom = 50;
        var p50 = Stats.Percentile(sortedLags, 50);
        var p99 = Stats.Percentile(sortedLags, 99);
        var xMax = Math.Max(300, Math.Ceiling(p99 * 1.2 / 50) * 50);
        const double Bin = 5;
        var bins = (int)(xMax / Bin);
        var counts = new int[bins + 1]; // the last one holds everything ≥ xMax
        foreach (var lag in sortedLags)
        {
            counts[Math.Clamp((int)Math.Floor(Math.Max(0, lag) / Bin), 0, bins)]++;
        }

        var plotW = Width - Left - Right;
        var plotH = Height - Top - Bottom;
        var barW = (double)plotW / (bins + 4); // empty slots before the overflow bar
        var yMax = Math.Max(1, counts.Max() * 1.1); // headroom for the marker labels
        double X(double ms) => Left + ms / Bin * barW;
        double Y(double count) => Top + plotH - count / yMax * plotH;
        string F(double v) => v.ToString("0.#", CultureInfo.InvariantCulture);

        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"""<svg xmlns="http://www.w3.org/2000/svg" width="{Width}" height="{Height}" viewBox="0 0 {Width} {Height}" font-family="sans-serif" font-size="12">""").AppendLine();
        svg.AppendLine($"""<rect width="{Width}" height="{Height}" fill="white"/>""");
        svg.AppendLine($"""<text x="{Left}" y="22" font-size="15" font-weight="bold">{Escape(title)}</text>""");
        svg.AppendLine(CultureInfo.InvariantCulture, $"""<text x="{Left}" y="40" fill="#555">{sortedLags.Count:N0} fires · p50 {F(p50)} ms · p99 {F(p99)} ms · max {F(sortedLags.Count > 0 ? sortedLags[^1] : double.NaN)} ms · 5 ms bins</text>""");

        // axes and ticks
        svg.AppendLine($"""<line x1="{Left}" y1="{Top + plotH}" x2="{Width - Right}" y2="{Top + plotH}" stroke="#333"/>""");
        svg.AppendLine($"""<line x1="{Left}" y1="{Top}" x2="{Left}" y2="{Top + plotH}" stroke="#333"/>""");
        var step = xMax <= 400 ? 50 : xMax <= 1000 ? 100 : 200;
        for (var ms = 0.0; ms <= xMax; ms += step)
        {
            svg.AppendLine($"""<line x1="{F(X(ms))}" y1="{Top + plotH}" x2="{F(X(ms))}" y2="{Top + plotH + 4}" stroke="#333"/><text x="{F(X(ms))}" y="{Top + plotH + 17}" text-anchor="middle">{F(ms)}</text>""");
        }

        if (counts[bins] > 0)
        {
            svg.AppendLine($"""<text x="{Width - Right}" y="{Top + plotH + 30}" text-anchor="end" fill="#b07aa1">≥ {F(xMax)}: {counts[bins]}</text>""");
        }
        svg.AppendLine($"""<text x="{Left + plotW / 2}" y="{Height - 10}" text-anchor="middle">lag: scheduled time → first byte at the receiver (ms)</text>""");
        foreach (var fraction in new[] { 0.5, 1.0 })
        {
            var count = yMax * fraction;
            svg.AppendLine(CultureInfo.InvariantCulture, $"""<text x="{Left - 6}" y="{F(Y(count) + 4)}" text-anchor="end">{count:0}</text><line x1="{Left}" y1="{F(Y(count))}" x2="{Width - Right}" y2="{F(Y(count))}" stroke="#eee"/>""");
        }

        svg.AppendLine($"""<text transform="translate(16 {Top + plotH / 2}) rotate(-90)" text-anchor="middle">fires per bin</text>""");

        // bars
        for (var i = 0; i <= bins; i++)
        {
            if (counts[i] == 0)
            {
                continue;
            }

            var x = i < bins ? X(i * Bin) : X(xMax) + barW * 3;
            svg.AppendLine($"""<rect x="{F(x + 0.5)}" y="{F(Y(counts[i]))}" width="{F(Math.Max(1, barW - 1))}" height="{F(Top + plotH - Y(counts[i]))}" fill="{(i < bins ? "#4e79a7" : "#b07aa1")}"/>""");
        }

        // targets (dashed) and percentiles (solid)
        void Marker(double ms, string color, string label, bool dashed, int row)
        {
            var x = X(Math.Min(ms, xMax + Bin));
            svg.AppendLine($"""<line x1="{F(x)}" y1="{Top}" x2="{F(x)}" y2="{Top + plotH}" stroke="{color}" stroke-width="2"{(dashed ? " stroke-dasharray=\"6 4\"" : "")}/>""");
            svg.AppendLine($"""<text x="{F(x + 4)}" y="{Top + 14 + row * 15}" fill="{color}">{Escape(label)}</text>""");
        }

        Marker(50, "#59a14f", "target p50 ≤ 50 ms", dashed: true, row: 0);
        Marker(250, "#59a14f", "target p99 ≤ 250 ms", dashed: true, row: 3);
        Marker(p50, "#e15759", $"p50 {F(p50)} ms", dashed: false, row: 1);
        Marker(p99, "#f28e2b", $"p99 {F(p99)} ms", dashed: false, row: 2);
        svg.AppendLine("</svg>");
        return svg.ToString();
    }

    private static string Escape(string text) => text.Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal);
}
