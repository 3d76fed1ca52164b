using System.Collections.Concurrent;
using System.Reflection;
using System.Runtime.ExceptionServices;
using Airlock.Gateway.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace Airlock.FunctionalTests.Infrastructure;

/// <summary>
/// Counts the calls that reach the gateway's real store, by method name: <see cref="Register"/>
/// puts a pass-through in front of the store the gateway built (everything still goes to it, as
/// it was called). For tests of how often something reads the store.
/// </summary>
public sealed class StoreReads
{
    private readonly ConcurrentDictionary<string, int> _calls = new(StringComparer.Ordinal);

    /// <summary>How many times the store's <paramref name="method"/> was called so far.</summary>
    public int Of(string method) => _calls.GetValueOrDefault(method);

    /// <summary>For <c>TestGateway.StartAsync(services: …)</c>.</summary>
    public void Register(IServiceCollection services)
    {
        var built = services.Last(d => d.ServiceType == typeof(IAirlockStore));
        services.Remove(built);
        services.AddSingleton(sp =>
        {
            var store = (IAirlockStore)(built.ImplementationInstance ?? built.ImplementationFactory!(sp));
            var counting = DispatchProxy.Create<IAirlockStore, Counting>();
            ((Counting)(object)counting).Inner = (store, this);
            return counting;
        });
    }

    public class Counting : DispatchProxy
    {
        internal (IAirlockStore Store, StoreReads Reads) Inner { get; set; }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            ArgumentNullException.ThrowIfNull(targetMethod);
            Inner.Reads._calls.AddOrUpdate(targetMethod.Name, 1, static (_, n) => n + 1);
            try
            {
                return targetMethod.Invoke(Inner.Store, args);
            }
            catch (TargetInvocationException ex) when (ex.InnerException is not null)
            {
                ExceptionDispatchInfo.Throw(ex.InnerException);
                throw;
            }
        }
    }
}
