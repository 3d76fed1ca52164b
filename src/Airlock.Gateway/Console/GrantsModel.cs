using Airlock.Gateway.Reviews;

namespace Airlock.Gateway.Console;

/// <summary>The grants page: the grants in force the person may see, and whether they may revoke each.</summary>
// Public: a console component (.razor, always public) takes it as a [Parameter].
public sealed record GrantsModel(ConsoleFrame Frame, IReadOnlyList<(Grant Grant, bool MayRevoke)> Grants, Notice? Notice);
