using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Platform.Tool.Registry;

namespace Platform.Tool.Builtins;

/// <summary>
/// Arithmetic by a small recursive-descent parser: numbers, + - * / % ^, parentheses, and a fixed set of functions and
/// constants. Nothing is compiled or evaluated as code.
/// </summary>
public sealed class CalculatorTool : IBuiltinTool
{
    public ToolDefinition Definition { get; } = Builtin.Define("calculator",
        "Evaluates an arithmetic expression, e.g. '2 * (3 + 4) ^ 2' or 'sqrt(2) * pi'. Functions: sqrt, abs, round, floor, ceil, ln, log10, exp, sin, cos, tan, min, max.",
        SideEffects.ReadOnly,
        """{"type":"object","properties":{"expression":{"type":"string","minLength":1,"maxLength":1000}},"required":["expression"],"additionalProperties":false}""");

    public Task<JsonNode?> ExecuteAsync(JsonElement arguments, ToolContext context, CancellationToken cancellationToken)
    {
        var value = new Parser(arguments.GetProperty("expression").GetString()!).Evaluate();
        if (double.IsNaN(value) || double.IsInfinity(value))
        {
            throw new ToolFailedException("The expression has no finite value (division by zero?).", retryable: false);
        }

        return Task.FromResult<JsonNode?>(new JsonObject { ["value"] = value });
    }

    private sealed class Parser(string text)
    {
        private const int MaxDepth = 64;
        private int _position;
        private int _depth;

        public double Evaluate()
        {
            var value = Sum();
            SkipSpaces();
            return _position == text.Length ? value : throw Error($"unexpected '{text[_position]}'");
        }

        private double Sum()
        {
            var value = Product();
            while (true)
            {
                if (Take('+'))
                {
                    value += Product();
                }
                else if (Take('-'))
                {
                    value -= Product();
                }
                else
                {
                    return value;
                }
            }
        }

        private double Product()
        {
            var value = Unary();
            while (true)
            {
                if (Take('*'))
                {
                    value *= Unary();
                }
                else if (Take('/'))
                {
                    value /= Unary();
                }
                else if (Take('%'))
                {
                    value %= Unary();
                }
                else
                {
                    return value;
                }
            }
        }

        // Unary minus binds looser than '^', as in mathematics: -2^2 is -4, and 2^-1 is 0.5.
        private double Unary()
        {
            if (Take('-'))
            {
                return -Unary();
            }

            return Take('+') ? Unary() : Power();
        }

        private double Power()
        {
            var value = Primary();
            return Take('^') ? Math.Pow(value, Unary()) : value;
        }

        private double Primary()
        {
            if (++_depth > MaxDepth)
            {
                throw Error("too deeply nested");
            }

            try
            {
                SkipSpaces();
                if (Take('('))
                {
                    var inner = Sum();
                    return Take(')') ? inner : throw Error("missing ')'");
                }

                if (_position < text.Length && (char.IsDigit(text[_position]) || text[_position] == '.'))
                {
                    var start = _position;
                    while (_position < text.Length && (char.IsDigit(text[_position]) || text[_position] is '.' or 'e' or 'E'
                        || (text[_position] is '+' or '-' && text[_position - 1] is 'e' or 'E')))
                    {
                        _position++;
                    }

                    return double.TryParse(text.AsSpan(start, _position - start), NumberStyles.Float, CultureInfo.InvariantCulture, out var number)
                        ? number
                        : throw Error($"'{text[start.._position]}' is not a number");
                }

                var name = Identifier();
                return name switch
                {
                    "pi" => Math.PI,
                    "e" => Math.E,
                    "" => throw Error(_position < text.Length ? $"unexpected '{text[_position]}'" : "unexpected end"),
                    _ => Call(name),
                };
            }
            finally
            {
                _depth--;
            }
        }

        private double Call(string name)
        {
            if (!Take('('))
            {
                throw Error($"unknown name '{name}'");
            }

            var arguments = new List<double> { Sum() };
            while (Take(','))
            {
                arguments.Add(Sum());
            }

            if (!Take(')'))
            {
                throw Error("missing ')'");
            }

            return (name, arguments.Count) switch
            {
                ("sqrt", 1) => Math.Sqrt(arguments[0]),
                ("abs", 1) => Math.Abs(arguments[0]),
                ("round", 1) => Math.Round(arguments[0], MidpointRounding.AwayFromZero),
                ("round", 2) => Math.Round(arguments[0], (int)Math.Clamp(arguments[1], 0, 15), MidpointRounding.AwayFromZero),
                ("floor", 1) => Math.Floor(arguments[0]),
                ("ceil", 1) => Math.Ceiling(arguments[0]),
                ("ln", 1) => Math.Log(arguments[0]),
                ("log10", 1) => Math.Log10(arguments[0]),
                ("exp", 1) => Math.Exp(arguments[0]),
                ("sin", 1) => Math.Sin(arguments[0]),
                ("cos", 1) => Math.Cos(arguments[0]),
                ("tan", 1) => Math.Tan(arguments[0]),
                ("min", > 0) => arguments.Min(),
                ("max", > 0) => arguments.Max(),
                _ => throw Error($"unknown function {name}/{arguments.Count}"),
            };
        }

        private string Identifier()
        {
            SkipSpaces();
            var start = _position;
            while (_position < text.Length && char.IsAsciiLetterOrDigit(text[_position]))
            {
                _position++;
            }

            return text[start.._position].ToLowerInvariant();
        }

        private bool Take(char symbol)
        {
            SkipSpaces();
            if (_position < text.Length && text[_position] == symbol)
            {
                _position++;
                return true;
            }

            return false;
        }

        private void SkipSpaces()
        {
            while (_position < text.Length && char.IsWhiteSpace(text[_position]))
            {
                _position++;
            }
        }

        private ToolFailedException Error(string problem) => new($"Cannot evaluate the expression at position {_position}: {problem}.", retryable: false);
    }
}
