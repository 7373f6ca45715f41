using System.Globalization;
using System.Text.Json.Nodes;

namespace Ovasabi.DevSidecar.Messaging;

/// <summary>
/// The part of CEL that Dapr routing rules use in practice: <c>event.a.b</c> paths, string/number/bool/null literals,
/// <c>== != &lt; &lt;= &gt; &gt;=</c>, <c>&amp;&amp; || !</c>, parentheses, and the string methods
/// <c>startsWith</c>, <c>endsWith</c>, <c>contains</c>. Anything else is refused when the subscription is read.
/// </summary>
public sealed class RouteExpression
{
    private readonly Func<JsonObject, object?> _evaluate;

    private RouteExpression(string text, Func<JsonObject, object?> evaluate)
    {
        Text = text;
        _evaluate = evaluate;
    }

    public string Text { get; }

    public bool Matches(JsonObject cloudEvent) => _evaluate(cloudEvent) is true;

    /// <exception cref="FormatException">the expression is outside the supported subset</exception>
    public static RouteExpression Parse(string text)
    {
        var parser = new Parser(text);
        var evaluate = parser.ParseOr();
        parser.ExpectEnd();
        return new RouteExpression(text, evaluate);
    }

    private sealed class Parser(string text)
    {
        private int _position;

        public void ExpectEnd()
        {
            SkipSpace();
            if (_position < text.Length)
            {
                throw Error($"unexpected '{text[_position..]}'");
            }
        }

        public Func<JsonObject, object?> ParseOr()
        {
            var left = ParseAnd();
            while (Take("||"))
            {
                var (l, r) = (left, ParseAnd());
                left = e => l(e) is true || r(e) is true;
            }
            return left;
        }

        private Func<JsonObject, object?> ParseAnd()
        {
            var left = ParseComparison();
            while (Take("&&"))
            {
                var (l, r) = (left, ParseComparison());
                left = e => l(e) is true && r(e) is true;
            }
            return left;
        }

        private Func<JsonObject, object?> ParseComparison()
        {
            var left = ParseUnary();
            foreach (var op in new[] { "==", "!=", "<=", ">=", "<", ">" })
            {
                if (Take(op))
                {
                    var right = ParseUnary();
                    return e => Compare(op, left(e), right(e));
                }
            }
            return left;
        }

        private Func<JsonObject, object?> ParseUnary()
        {
            if (Take("!"))
            {
                var operand = ParseUnary();
                return e => operand(e) is not true;
            }
            var primary = ParsePrimary();
            while (Take("."))
            {
                var method = Identifier();
                if (method is not ("startsWith" or "endsWith" or "contains") || !Take("("))
                {
                    throw Error($"unsupported member '.{method}'");
                }
                var argument = ParseOr();
                if (!Take(")"))
                {
                    throw Error("expected ')'");
                }
                var target = primary;
                primary = e => (target(e), argument(e)) switch
                {
                    (string s, string a) => method switch
                    {
                        "startsWith" => s.StartsWith(a, StringComparison.Ordinal),
                        "endsWith" => s.EndsWith(a, StringComparison.Ordinal),
                        _ => s.Contains(a, StringComparison.Ordinal),
                    },
                    _ => false,
                };
            }
            return primary;
        }

        private Func<JsonObject, object?> ParsePrimary()
        {
            SkipSpace();
            if (Take("("))
            {
                var inner = ParseOr();
                return Take(")") ? inner : throw Error("expected ')'");
            }
            if (_position < text.Length && text[_position] is '"' or '\'')
            {
                var literal = StringLiteral();
                return _ => literal;
            }
            if (_position < text.Length && (char.IsDigit(text[_position]) || text[_position] == '-'))
            {
                var start = _position++;
                while (_position < text.Length && (char.IsDigit(text[_position]) || text[_position] == '.'))
                {
                    _position++;
                }
                var number = double.Parse(text[start.._position], CultureInfo.InvariantCulture);
                return _ => number;
            }
            var name = Identifier();
            switch (name)
            {
                case "true": return _ => true;
                case "false": return _ => false;
                case "null": return _ => null;
                case "event": break;
                default: throw Error($"unknown identifier '{name}' (rules read the CloudEvent as 'event')");
            }
            var path = new List<string>();
            while (Peek(".") && !PeekMethod())
            {
                Take(".");
                path.Add(Identifier());
            }
            return e => Lookup(e, path);
        }

        private static object? Lookup(JsonObject cloudEvent, List<string> path)
        {
            JsonNode? node = cloudEvent;
            foreach (var segment in path)
            {
                node = node is JsonObject obj && obj.TryGetPropertyValue(segment, out var child) ? child : null;
            }
            return node switch
            {
                JsonValue v when v.TryGetValue<string>(out var s) => s,
                JsonValue v when v.TryGetValue<bool>(out var b) => b,
                JsonValue v when v.TryGetValue<double>(out var d) => d,
                _ => null,
            };
        }

        private static bool Compare(string op, object? left, object? right) => op switch
        {
            "==" => Equals(left, right),
            "!=" => !Equals(left, right),
            _ => (left, right) switch
            {
                (double l, double r) => op switch { "<" => l < r, "<=" => l <= r, ">" => l > r, _ => l >= r },
                (string l, string r) => op switch
                {
                    "<" => string.CompareOrdinal(l, r) < 0,
                    "<=" => string.CompareOrdinal(l, r) <= 0,
                    ">" => string.CompareOrdinal(l, r) > 0,
                    _ => string.CompareOrdinal(l, r) >= 0,
                },
                _ => false,
            },
        };

        private string StringLiteral()
        {
            var quote = text[_position++];
            var start = _position;
            while (_position < text.Length && text[_position] != quote)
            {
                _position++;
            }
            if (_position >= text.Length)
            {
                throw Error("unterminated string");
            }
            return text[start.._position++];
        }

        private string Identifier()
        {
            SkipSpace();
            var start = _position;
            while (_position < text.Length && (char.IsLetterOrDigit(text[_position]) || text[_position] == '_'))
            {
                _position++;
            }
            return _position > start ? text[start.._position] : throw Error("expected a name");
        }

        private bool PeekMethod()
        {
            var rest = text[(_position + 1)..].TrimStart();
            return rest.StartsWith("startsWith(", StringComparison.Ordinal) || rest.StartsWith("endsWith(", StringComparison.Ordinal) || rest.StartsWith("contains(", StringComparison.Ordinal);
        }

        private bool Peek(string token)
        {
            SkipSpace();
            return string.CompareOrdinal(text, _position, token, 0, token.Length) == 0;
        }

        private bool Take(string token)
        {
            if (!Peek(token))
            {
                return false;
            }
            _position += token.Length;
            return true;
        }

        private void SkipSpace()
        {
            while (_position < text.Length && char.IsWhiteSpace(text[_position]))
            {
                _position++;
            }
        }

        private FormatException Error(string problem) => new($"routing rule '{text}': {problem}");
    }
}
