using System.Text.Json;

namespace Ovasabi.DevSidecar.Cli;

/// <summary>
/// One line of an app's JSON console log (.NET's JSON console formatter: LogLevel, Category, Message, Exception) as a
/// person at a terminal reads it: level, category, message and the exception's first line. Any other line is shown as
/// written.
/// </summary>
public static class PlainLogLine
{
    public static string Render(string line)
    {
        if (!line.StartsWith('{'))
        {
            return line;
        }
        try
        {
            using var json = JsonDocument.Parse(line);
            var root = json.RootElement;
            if (root.ValueKind != JsonValueKind.Object
                || !root.TryGetProperty("LogLevel", out var level) || level.ValueKind != JsonValueKind.String
                || !root.TryGetProperty("Message", out var message) || message.ValueKind != JsonValueKind.String)
            {
                return line;
            }
            var category = root.TryGetProperty("Category", out var c) && c.GetString() is { } name ? name[(name.LastIndexOf('.') + 1)..] : "";
            var exception = root.TryGetProperty("Exception", out var e) && e.GetString() is { Length: > 0 } text ? " — " + text.Split('\n')[0].Trim() : "";
            return $"{Short(level.GetString()!)} {category}: {message.GetString()}{exception}";
        }
        catch (JsonException)
        {
            return line;
        }
    }

    // The four-letter levels of .NET's simple console format.
    private static string Short(string level) => level switch
    {
        "Trace" => "trce",
        "Debug" => "dbug",
        "Information" => "info",
        "Warning" => "warn",
        "Error" => "fail",
        "Critical" => "crit",
        _ => level.ToLowerInvariant(),
    };
}
