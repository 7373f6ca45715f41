using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Ovasabi.Common.V1;
using Ovasabi.User.Data;
using Ovasabi.User.Domain;
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

    /// <summary>A sent profile as the domain's rules read it; null when none was sent.</summary>
    public static ProfileInput? Input(Profile? profile)
    {
        if (profile is null)
        {
            return null;
        }
        var shape = Shape(profile.CustomFields);
        // A Struct with a value of no kind cannot be written as JSON; the rules refuse it before it is stored.
        var json = profile.CustomFields is null || shape!.UnsetValue ? "{}" : JsonFormatter.Default.Format(profile.CustomFields);
        return new ProfileInput(profile.DisplayName, profile.AvatarUrl, profile.Bio, profile.Locale, profile.TimeZone, shape, json);
    }

    /// <summary>What the rules need to know of a sent Struct; null when none was sent.</summary>
    public static JsonShape? Shape(Struct? value)
    {
        if (value is null)
        {
            return null;
        }
        var (depth, unset, nonFinite) = (1, false, false);
        void Walk(IEnumerable<Value> values, int level)
        {
            foreach (var item in values)
            {
                switch (item.KindCase)
                {
                    case Value.KindOneofCase.None: unset = true; break;
                    case Value.KindOneofCase.NumberValue when !double.IsFinite(item.NumberValue): nonFinite = true; break;
                    case Value.KindOneofCase.StructValue: depth = Math.Max(depth, level + 1); Walk(item.StructValue.Fields.Values, level + 1); break;
                    case Value.KindOneofCase.ListValue: depth = Math.Max(depth, level + 1); Walk(item.ListValue.Values, level + 1); break;
                }
            }
        }
        Walk(value.Fields.Values, 1);
        // The formatter throws on a value with no kind.
        var bytes = unset ? 0 : System.Text.Encoding.UTF8.GetByteCount(JsonFormatter.Default.Format(value));
        return new JsonShape(value.Fields.Count, depth, unset, nonFinite, bytes);
    }

}
