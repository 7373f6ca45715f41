namespace Ovasabi.User.Domain;

/// <summary>One broken rule: the request field it concerns (e.g. <c>profile.avatar_url</c>) and what is wrong with it.</summary>
/// <remarks>Messages never repeat the field name, so callers can render <c>"{Field}: {Message}"</c>.</remarks>
public sealed record ValidationProblem(string Field, string Message)
{
    public override string ToString() => $"{Field}: {Message}";
}
