import CohortCore

/// Each problem loading `text` as `job.yml` gives, as printed (none: it loads).
func loadingProblems(_ text: String) -> [String] {
    do {
        _ = try JobLoader.load(text: text, file: "job.yml")
        return []
    } catch {
        return error.problems.map(\.description)
    }
}
