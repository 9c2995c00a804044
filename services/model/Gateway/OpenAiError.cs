using System.Text.Json;
using Platform.ServiceDefaults.Http;

namespace Platform.Model.Gateway;

/// <summary>Errors in OpenAI's shape (<c>{"error": {message, type, param, code}}</c>), which its clients parse.</summary>
public sealed record OpenAiError(int Status, string Message, string Type, string? Param, string? Code)
{
    public static OpenAiError InvalidRequest(string message, string? param = null, string? code = null) =>
        new(StatusCodes.Status400BadRequest, message, "invalid_request_error", param, code);

    public static OpenAiError InvalidApiKey(string message) =>
        new(StatusCodes.Status401Unauthorized, message, "invalid_request_error", null, "invalid_api_key");

    public static OpenAiError Forbidden(string message) =>
        new(StatusCodes.Status403Forbidden, message, "permission_error", null, "insufficient_permissions");

    /// <summary>A model the caller cannot see is, to it, a model that does not exist: a 404, as OpenAI answers.</summary>
    public static OpenAiError ModelNotFound(string model) =>
        new(StatusCodes.Status404NotFound, $"The model '{model}' does not exist or you do not have access to it.", "invalid_request_error", "model", "model_not_found");

    /// <summary>A refused reservation: a spent budget is <c>insufficient_quota</c>, a rate is <c>rate_limit_exceeded</c>.</summary>
    public static OpenAiError Refused(Budgets.Reservation reservation) => reservation.IsBudget
        ? new(StatusCodes.Status429TooManyRequests, $"The {Budgets.BudgetGate.Describe(reservation)} would be exceeded by this request.",
            "insufficient_quota", null, "insufficient_quota")
        : new(StatusCodes.Status429TooManyRequests, $"Rate limit reached: {Budgets.BudgetGate.Describe(reservation)}.",
            reservation.Refusal == 6 ? "tokens" : "requests", null, "rate_limit_exceeded");

    /// <summary>Writes a refusal with the <c>Retry-After</c> of the window that refused it.</summary>
    public static Task WriteRefusalAsync(HttpContext context, Budgets.Reservation reservation)
    {
        context.Response.Headers.RetryAfter = Math.Ceiling(Budgets.BudgetGate.RetryAfter(reservation).TotalSeconds)
            .ToString(System.Globalization.CultureInfo.InvariantCulture);
        return Refused(reservation).WriteAsync(context);
    }

    public static OpenAiError IdempotencyKeyInvalid() => InvalidRequest(IdempotencyKeys.Rule, IdempotencyKeys.Header, "invalid_idempotency_key");

    public static OpenAiError IdempotencyKeyReused() => new(StatusCodes.Status422UnprocessableEntity,
        $"This {IdempotencyKeys.Header} was already used with a different request; a repeat must send the same body (only stream and stream_options may differ).",
        "invalid_request_error", IdempotencyKeys.Header, "idempotency_key_reused");

    public static OpenAiError IdempotencyKeyInUse() => new(StatusCodes.Status409Conflict,
        $"A request with this {IdempotencyKeys.Header} is still in progress; retry after it finishes.",
        "invalid_request_error", IdempotencyKeys.Header, "idempotency_key_in_use");

    /// <summary>A gateway replica sent the request upstream and stopped before it answered: it may be paid for, and it is not made again.</summary>
    public static OpenAiError IdempotencyOutcomeUnknown() => new(StatusCodes.Status409Conflict,
        $"A request with this {IdempotencyKeys.Header} was sent to the model provider by a gateway that stopped before it answered; it may have been paid for, " +
        $"so it is not sent again under this key and its answer is lost. Send the request with a new {IdempotencyKeys.Header} to make the call anew.",
        "invalid_request_error", IdempotencyKeys.Header, "idempotency_key_outcome_unknown");

    public static OpenAiError IdempotencyUnavailable() => new(StatusCodes.Status503ServiceUnavailable,
        $"The {IdempotencyKeys.Header} could not be checked just now; retry the request.",
        "api_error", IdempotencyKeys.Header, "idempotency_unavailable");

    public static OpenAiError UpstreamFailed(string message) =>
        new(StatusCodes.Status502BadGateway, message, "api_error", null, "upstream_error");

    public Task WriteAsync(HttpContext context) =>
        Results.Json(new { error = new { message = Message, type = Type, param = Param, code = Code } }, statusCode: Status).ExecuteAsync(context);

    public static string AsJson(OpenAiError error) =>
        JsonSerializer.Serialize(new { error = new { message = error.Message, type = error.Type, param = error.Param, code = error.Code } });
}
