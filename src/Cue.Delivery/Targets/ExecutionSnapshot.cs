using Cue.Contracts;
using Cue.Contracts.Events;

namespace Cue.Delivery.Targets;

/// <summary>
/// The payload an execution delivers on every attempt, fixed when the execution was created: a manual
/// fire's merged override, a replay's original payload, or the payload a scheduled execution's first
/// attempt sent. Written inline by the API; read here so retries and fires never pick up later edits.
/// </summary>
public sealed class ExecutionSnapshot
{
    public string Id { get; set; } = "";
    public string CueName { get; set; } = "";
    public Sealed Payload { get; set; } = null!;

    public static ExecutionSnapshot Create(ExecutionCreated e) => new()
    {
        Id = e.ExecutionId.ToString("D"),
        CueName = e.CueName,
        Payload = e.Payload,
    };
}
