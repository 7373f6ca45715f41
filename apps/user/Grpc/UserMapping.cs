using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Ovasabi.Common.V1;
using Ovasabi.User.Data;
using Ovasabi.User.V1;

namespace Ovasabi.User.Grpc;

/// <summary>Stored users to their API shape. The password hash never leaves the service.</summary>
internal static class UserMapping
{
    public static V1.User ToProto(this UserRecord user) => new()
    {
        UserId = user.Master.Uuid.ToString(),
        Username = user.Username,
        Email = user.Email,
        Status = user.State == UserState.Suspended ? UserStatus.Suspended : UserStatus.Active,
        Profile = new Profile
        {
            DisplayName = user.DisplayName ?? "",
            AvatarUrl = user.AvatarUrl ?? "",
            Bio = user.Bio ?? "",
            Locale = user.Locale ?? "",
            TimeZone = user.TimeZone ?? "",
            CustomFields = JsonParser.Default.Parse<Struct>(user.CustomFields),
        },
        Roles = { user.Roles.Select(r => r.Role).Order(StringComparer.Ordinal) },
        Audit = new AuditInfo
        {
            CreateTime = Timestamp.FromDateTimeOffset(user.Master.CreatedAt),
            UpdateTime = Timestamp.FromDateTimeOffset(user.Master.UpdatedAt),
            Version = user.Master.Version,
        },
        LastLoginTime = user.LastLoginAt is { } login ? Timestamp.FromDateTimeOffset(login) : null,
    };

    /// <summary>Copies one profile field (a <see cref="Profile"/> field name) from the request onto the stored user.</summary>
    public static void ApplyProfileField(this UserRecord user, Profile profile, string field)
    {
        switch (field)
        {
            case "display_name": user.DisplayName = Empty(profile.DisplayName); break;
            case "avatar_url": user.AvatarUrl = Empty(profile.AvatarUrl); break;
            case "bio": user.Bio = Empty(profile.Bio); break;
            case "locale": user.Locale = Empty(profile.Locale); break;
            case "time_zone": user.TimeZone = Empty(profile.TimeZone); break;
            case "custom_fields": user.CustomFields = JsonFormatter.Default.Format(profile.CustomFields ?? new Struct()); break;
            default: throw new ArgumentOutOfRangeException(nameof(field), field, "not a profile field");
        }
    }

    private static string? Empty(string value) => string.IsNullOrEmpty(value) ? null : value;
}
