/// An attempt as rank 0 sends it to a worker rank: only what differs from
/// one instance of a stage to the next. The worker makes the whole
/// `TaskOrder` from it with the stage's `StageRecipe`, which it was sent
/// once, so an order on the wire is tens of bytes, not the environment.
public struct TaskAssignment: Equatable, Sendable {
    public var instance: InstanceID
    /// The stage's index in the job (and in the recipes the worker holds).
    public var stage: Int
    /// "" where the stage's domain has no subject.
    public var subject: String
    /// "" where the stage's domain has no session.
    public var session: String
    /// Counted over every run (`COHORT_ATTEMPT`, the attempt's folder).
    public var attempt: Int
    /// "" unless the stage runs once per item (`foreach`).
    public var item: String = ""
    /// A follow-on: start only once this instance, running on the same
    /// worker, has ended (at once if it has already).
    public var after: InstanceID? = nil
    /// The GPU devices it holds, for `CUDA_VISIBLE_DEVICES` (empty: none of
    /// its worker's); nil on a worker without GPUs (the variable is left alone).
    public var gpus: [String]? = nil
    /// A multi-node instance's hosts, its own first (nil: one worker).
    public var hosts: [String]? = nil
    /// With `hosts`, of a stage with `gpus`: each host's devices (`0,1`), in the same order.
    public var hostGPUs: [String]? = nil

    public init(instance: InstanceID, stage: Int, subject: String, session: String, attempt: Int, after: InstanceID? = nil) {
        self.instance = instance
        self.stage = stage
        self.subject = subject
        self.session = session
        self.attempt = attempt
        self.after = after
    }
}
