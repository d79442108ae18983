/// What a generator (`items: true`, DESIGN §8) wrote to `$COHORT_ITEMS`:
/// one item per line, each an identifier or a path relative to the job
/// folder (`raw/sub-01/movie_0001.tif`). An item names instances and
/// their folders, so it may not leave the job folder (`/…`, `..`) nor hold
/// control characters; a list with such a line fails its generator, with
/// the line, and so does an item whose folder name (`/` and `%` escaped,
/// see `StageRecipe.folderName(ofItem:)`) would exceed 255 bytes. Blank
/// lines (spaces only, too) are skipped; `./a` and `a//b` are spelled `a` and
/// `a/b`; a repeated item counts once.
public enum ItemList {
    /// More items than this from one generator instance fail it: a runaway
    /// `ls` of the wrong folder should not swamp rank 0.
    public static let maximumItems = 1_000_000

    public struct Problem: Error, Sendable, Equatable, CustomStringConvertible {
        /// 1-based line of the list (0: the list as a whole).
        public var line: Int
        public var message: String

        public init(line: Int, message: String) {
            self.line = line
            self.message = message
        }

        public var description: String { line > 0 ? "line \(line): \(message)" : message }
    }

    /// The items of `text` in order, or the first problem.
    public static func items(in text: String) -> Result<[String], Problem> {
        var items: [String] = []
        var seen: Set<String> = []
        for (index, line) in textLines(text).enumerated() {
            if line.allSatisfy({ $0 == " " }) { continue }
            switch item(line) {
            case .failure(let problem):
                return .failure(Problem(line: index + 1, message: problem.message))
            case .success(let item):
                guard seen.insert(item).inserted else { continue }
                guard items.count < maximumItems else {
                    return .failure(Problem(line: index + 1, message: "more than \(maximumItems) items"))
                }
                items.append(item)
            }
        }
        return .success(items)
    }

    /// One line as an item, spelled canonically, or why it cannot be one.
    static func item(_ line: Substring) -> Result<String, Problem> {
        func failure(_ message: String) -> Result<String, Problem> { .failure(Problem(line: 0, message: message)) }
        if line.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f }) {
            return failure("\(quoted(String(line))) holds a control character")
        }
        if line.hasPrefix("/") { return failure("\(quoted(String(line))) is an absolute path; items are relative to the job folder") }
        let parts = line.split(separator: "/").filter { $0 != "." }
        if parts.contains("..") { return failure("\(quoted(String(line))) leaves the job folder ('..')") }
        guard !parts.isEmpty else { return failure("\(quoted(String(line))) names no file") }
        if line.utf8.count > 4096 { return failure("longer than 4096 bytes") }
        let item = parts.joined(separator: "/")
        let folder = StageRecipe.folderName(ofItem: item).utf8.count
        if folder > 255 {
            return failure("\(quoted(String(item.prefix(40))))… makes a folder name of \(folder) bytes (`/` and `%` take 3 each); at most 255")
        }
        return .success(item)
    }
}
