import Foundation

enum FileHandleOutput {
    static func writeStderr(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }
}

/// Writes a file by renaming a temporary one, so a reader never sees half of it.
package func writeAtomically(_ text: String, to path: String) throws {
    let url = URL(fileURLWithPath: path)
    try Data(text.utf8).write(to: url, options: .atomic)
}
