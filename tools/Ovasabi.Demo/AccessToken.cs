using System.Buffers.Text;
using System.Text.Json;

namespace Ovasabi.Demo;

internal static class AccessToken
{
    /// <summary>The <c>sub</c> claim of a JWT (the user ID), read without verifying: only to name the administrator in the output.</summary>
    public static string Subject(string jwt)
    {
        var parts = jwt.Split('.');
        if (parts.Length != 3)
        {
            return "";
        }
        using var claims = JsonDocument.Parse(Base64Url.DecodeFromChars(parts[1]));
        return claims.RootElement.TryGetProperty("sub", out var sub) ? sub.GetString() ?? "" : "";
    }
}
