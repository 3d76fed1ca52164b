// The quick-start's upstream: a small billing API that, like a real SaaS, demands its own
// credential. Agents never see that credential; Airlock injects it.
using System.Security.Cryptography;
using System.Text;

var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
var app = builder.Build();

var expectedToken = Environment.GetEnvironmentVariable("BILLING_API_TOKEN");
if (string.IsNullOrEmpty(expectedToken))
{
    Console.Error.WriteLine("error: set BILLING_API_TOKEN to the token this API accepts");
    return 2;
}

var expected = Encoding.UTF8.GetBytes("Bearer " + expectedToken);
app.Use(async (context, next) =>
{
    var presented = Encoding.UTF8.GetBytes(context.Request.Headers.Authorization.ToString());
    if (!CryptographicOperations.FixedTimeEquals(presented, expected))
    {
        context.Response.StatusCode = 401;
        await context.Response.WriteAsJsonAsync(new ErrorBody("invalid billing API token"), BillingJson.Default.ErrorBody);
        return;
    }

    await next(context);
});

var customers = new[]
{
    new Customer(1, "Ada Lovelace", "ada@example.com", "+44 20 7946 0018", "4111 1111 1111 1111", "DE89370400440532013000"),
    new Customer(2, "Grace Hopper", "grace@example.org", "+1 202 555 0143", "5500 0000 0000 0004", "GB82WEST12345698765432"),
    new Customer(3, "Alan Turing", "alan@example.net", "+44 161 496 0754", "3400 000000 00009", "FR1420041010050500013M02606"),
};
var plans = new System.Collections.Concurrent.ConcurrentDictionary<int, Plan>([new(1, new(1, "starter", 9)), new(2, new(2, "team", 49)), new(42, new(42, "enterprise", 499))]);

app.MapGet("/v1/customers", () => Results.Json(new CustomerList(customers), BillingJson.Default.CustomerList));
app.MapGet("/v1/customers/{id:int}", (int id) =>
    customers.FirstOrDefault(c => c.Id == id) is { } c ? Results.Json(c, BillingJson.Default.Customer) : Results.NotFound());
app.MapGet("/v1/plans", () => Results.Json(plans.Values.OrderBy(p => p.Id).ToArray(), BillingJson.Default.PlanArray));
app.MapPut("/v1/plans/{id:int}", (int id, Plan plan) =>
{
    plans[id] = plan with { Id = id };
    return Results.Json(plans[id], BillingJson.Default.Plan);
});
app.MapPost("/v1/refunds", (Refund refund) => Results.Json(refund with { Status = "issued" }, BillingJson.Default.Refund));
app.MapDelete("/v1/customers/{id:int}", (int id) => Results.NoContent());
app.MapGet("/v1/whoami", (HttpContext context) => Results.Json(new WhoAmI(
    "billing-service-account",
    context.Request.Headers["X-Forwarded-For"].ToString(),
    context.Request.Headers["X-Forwarded-Prefix"].ToString()), BillingJson.Default.WhoAmI));

app.Run();
return 0;

internal sealed record Customer(int Id, string Name, string Email, string Phone, string Card, string Iban);
internal sealed record CustomerList(Customer[] Customers);
internal sealed record Plan(int Id, string Name, decimal MonthlyPrice);
internal sealed record Refund(string Customer, decimal Amount, string? Status);
internal sealed record WhoAmI(string AuthenticatedAs, string ForwardedFor, string ForwardedPrefix);
internal sealed record ErrorBody(string Error);

[System.Text.Json.Serialization.JsonSerializable(typeof(CustomerList))]
[System.Text.Json.Serialization.JsonSerializable(typeof(Customer))]
[System.Text.Json.Serialization.JsonSerializable(typeof(Plan))]
[System.Text.Json.Serialization.JsonSerializable(typeof(Plan[]))]
[System.Text.Json.Serialization.JsonSerializable(typeof(Refund))]
[System.Text.Json.Serialization.JsonSerializable(typeof(WhoAmI))]
[System.Text.Json.Serialization.JsonSerializable(typeof(ErrorBody))]
[System.Text.Json.Serialization.JsonSourceGenerationOptions(PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.CamelCase)]
internal sealed partial class BillingJson : System.Text.Json.Serialization.JsonSerializerContext;
