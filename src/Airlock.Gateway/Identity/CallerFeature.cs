namespace Airlock.Gateway.Identity;

/// <summary>
/// Who is calling, set once on the request by <see cref="IdentityMiddleware"/> when a credential
/// checks out (as ASP.NET's authentication sets <c>IAuthenticateResultFeature</c>). Every later
/// stage reads it with <c>GetRequiredFeature</c>: a stage put before identity fails loudly
/// instead of acting for nobody.
/// </summary>
internal sealed class CallerFeature(CallerIdentity caller)
{
    public CallerIdentity Caller { get; } = caller;
}
