using Microsoft.Extensions.Logging;

namespace ConnectOperator.Runtime;

/// <summary>
/// The runtime's log lines as source-generated <see cref="LoggerMessageAttribute"/> methods (CA1848): the template is
/// parsed once, and nothing is formatted or boxed when the level is off, which matters on the informer and queue paths
/// that run for every object. The templates are the ones the log lines always had.
/// </summary>
internal static partial class RuntimeLog
{
    // Informer
    [LoggerMessage(Level = LogLevel.Information, Message = "informer {Name}: resourceVersion {Rv} expired (410), relisting")]
    public static partial void InformerExpired(this ILogger log, string name, string rv);

    [LoggerMessage(Level = LogLevel.Information, Message = "informer {Name}: resourceVersion {Rv} is too large for the server, relisting in {Delay}")]
    public static partial void InformerTooLarge(this ILogger log, string name, string rv, TimeSpan delay);

    [LoggerMessage(Level = LogLevel.Warning, Message = "informer {Name}: {Op} failed, retrying in {Delay}")]
    public static partial void InformerRetrying(this ILogger log, Exception e, string name, string op, TimeSpan delay);

    [LoggerMessage(Level = LogLevel.Information, Message = "informer {Name}: list from the watch cache failed, falling back to a quorum list")]
    public static partial void InformerWatchCacheListFailed(this ILogger log, Exception e, string name);

    [LoggerMessage(Level = LogLevel.Information, Message = "informer {Name}: watch ERROR 410 ({Msg}), relisting")]
    public static partial void InformerWatchExpired(this ILogger log, string name, string? msg);

    [LoggerMessage(Level = LogLevel.Information, Message = "informer {Name}: watch ERROR {Code} ({Msg}), relisting")]
    public static partial void InformerWatchTooLarge(this ILogger log, string name, int? code, string? msg);

    [LoggerMessage(Level = LogLevel.Warning, Message = "informer {Name}: watch silent for longer than its timeout, reconnecting")]
    public static partial void InformerWatchSilent(this ILogger log, string name);

    [LoggerMessage(Level = LogLevel.Error, Message = "informer {Name}: event handler threw")]
    public static partial void InformerHandlerThrew(this ILogger log, Exception e, string name);

    [LoggerMessage(Level = LogLevel.Information, Message = "informer {Name}: cannot list and watch {Resource} in namespace {Namespace} yet; waiting for access")]
    public static partial void NamespaceAccessWaiting(this ILogger log, string name, string resource, string @namespace);

    [LoggerMessage(Level = LogLevel.Information, Message = "informer {Name}: access to namespace {Namespace} granted, watching")]
    public static partial void NamespaceAccessGranted(this ILogger log, string name, string @namespace);

    [LoggerMessage(Level = LogLevel.Warning, Message = "informer {Name}: access review for namespace {Namespace} failed: {Error}")]
    public static partial void NamespaceAccessReviewFailed(this ILogger log, string name, string @namespace, string error);

    // Controller
    [LoggerMessage(Level = LogLevel.Information, Message = "controller {Name}: starting {Workers} workers")]
    public static partial void ControllerStarting(this ILogger log, string name, int workers);

    [LoggerMessage(Level = LogLevel.Information, Message = "controller {Name}: stopped")]
    public static partial void ControllerStopped(this ILogger log, string name);

    [LoggerMessage(Level = LogLevel.Error, Message = "controller {Name}: reconcile {Request} failed (attempt {Attempt})")]
    public static partial void ReconcileFailed(this ILogger log, Exception e, string name, ReconcileRequest request, int attempt);

    [LoggerMessage(Level = LogLevel.Information, Message = "starting {Count} controllers")]
    public static partial void StartingControllers(this ILogger log, int count);

    // Leader election
    [LoggerMessage(Level = LogLevel.Information, Message = "leader election: {Leader} leads {Lease}")]
    public static partial void NewLeader(this ILogger log, string leader, string lease);

    [LoggerMessage(Level = LogLevel.Warning, Message = "leader election error")]
    public static partial void ElectionError(this ILogger log, Exception e);

    [LoggerMessage(Level = LogLevel.Warning, Message = "leader election failed; retrying")]
    public static partial void ElectionFailed(this ILogger log, Exception e);

    [LoggerMessage(Level = LogLevel.Information, Message = "leader election: {Identity} released {Lease}")]
    public static partial void LeaseReleased(this ILogger log, string identity, string lease);

    [LoggerMessage(Level = LogLevel.Warning, Message = "leader election: {Identity} could not release {Lease} (changed meanwhile)")]
    public static partial void LeaseNotReleased(this ILogger log, string identity, string lease);

    [LoggerMessage(Level = LogLevel.Warning, Message = "leader election: releasing {Lease} failed; the next leader waits for it to expire")]
    public static partial void LeaseReleaseFailed(this ILogger log, Exception e, string lease);

    [LoggerMessage(Level = LogLevel.Information, Message = "leader election: {Identity} became leader")]
    public static partial void BecameLeader(this ILogger log, string identity);

    [LoggerMessage(Level = LogLevel.Warning, Message = "leader election: {Identity} lost leadership")]
    public static partial void LostLeadership(this ILogger log, string identity);

    [LoggerMessage(Level = LogLevel.Error, Message = "leader election handler threw")]
    public static partial void ElectionHandlerThrew(this ILogger log, Exception e);

    // Writers
    [LoggerMessage(Level = LogLevel.Debug, Message = "event {Reason} for {Kind} {Name} dropped by spam filter")]
    public static partial void EventDropped(this ILogger log, string reason, string? kind, string? name);

    [LoggerMessage(Level = LogLevel.Warning, Message = "could not record event {Reason} for {Kind} {Name}")]
    public static partial void EventFailed(this ILogger log, Exception e, string reason, string? kind, string? name);

    [LoggerMessage(Level = LogLevel.Debug, Message = "status of {Kind} {Ns}/{Name}: conflict at resourceVersion {Rv}, re-reading")]
    public static partial void StatusConflict(this ILogger log, string kind, string? ns, string? name, string? rv);

    [LoggerMessage(Level = LogLevel.Debug, Message = "heap {Heap} MB over its goal {Goal} MB: collected")]
    public static partial void HeapCollected(this ILogger log, long heap, long goal);
}
