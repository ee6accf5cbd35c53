using ConnectOperator.Confluent;
using ConnectOperator.Entities;

namespace ConnectOperator.Controllers.ManagedConnectors;

/// <summary>
/// Whether to send a pause or resume now: once per change of the desired or the observed state, not once per pass.
/// Pause and resume are asynchronous (202, the state changes later), and a pause sent while Confluent provisions a
/// connector is either applied when provisioning ends or ignored (the connector ends RUNNING; Terraform provider issue
/// #386). So a request already sent is not repeated while Confluent still reports the state it was sent in; once the
/// state moves (PROVISIONING → RUNNING with the pause ignored) it is sent again. A request that had no effect for
/// <c>retryAfter</c> in a settled state is sent again, since a 202 promises nothing. Pure: the clock is a parameter.
/// </summary>
public static class PauseResume
{
    public static string? Decide(string desiredState, string? remoteState, V1Alpha1LifecycleRequest? last, DateTime now, TimeSpan retryAfter)
    {
        if (remoteState is null or ConnectorStates.None or ConnectorStates.Deleted) return null;   // nothing there to pause yet
        var action = desiredState switch
        {
            ConnectorDesiredState.Paused when remoteState != ConnectorStates.Paused => V1Alpha1LifecycleRequest.Pause,
            ConnectorDesiredState.Running when remoteState == ConnectorStates.Paused => V1Alpha1LifecycleRequest.Resume,
            _ => null,
        };
        if (action is null || last is null || last.Action != action || last.ObservedState != remoteState) return action;
        // Same request, same observed state: it was heard. While provisioning, wait for provisioning to end however long
        // it takes; otherwise give the asynchronous request its time before asking again.
        if (remoteState == ConnectorStates.Provisioning) return null;
        return last.RequestedAt is { } at && now - at < retryAfter ? null : action;
    }

    /// <summary>
    /// The request to keep in status after this pass: cleared once Confluent reports what was asked for, so a later
    /// divergence (someone resumes it in the Confluent UI) is answered at once.
    /// </summary>
    public static V1Alpha1LifecycleRequest? Settle(string desiredState, string? remoteState, V1Alpha1LifecycleRequest? request) => request?.Action switch
    {
        V1Alpha1LifecycleRequest.Pause when desiredState == ConnectorDesiredState.Paused && remoteState != ConnectorStates.Paused => request,
        V1Alpha1LifecycleRequest.Resume when desiredState == ConnectorDesiredState.Running && remoteState == ConnectorStates.Paused => request,
        _ => null,
    };

    /// <summary>When a pass should look again if a request is waiting for its effect (null: the poll's change will wake it).</summary>
    public static TimeSpan? RecheckIn(V1Alpha1LifecycleRequest? request, string? remoteState, DateTime now, TimeSpan retryAfter)
    {
        if (request?.RequestedAt is not { } at || remoteState == ConnectorStates.Provisioning) return null;
        var due = at + retryAfter - now;
        return due > TimeSpan.Zero ? due : TimeSpan.FromSeconds(1);
    }
}
