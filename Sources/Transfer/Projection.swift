import Foundation

/// Keeps only the allowed fields of a JSON body. Paths are dot-separated; `name[]` descends
/// into each element of a list (`members[].atenaNo`). Anything not named is dropped, so a
/// field added upstream never leaks by default.
public enum Projection {
    /// The projected object and the paths actually sent.
    public static func project(_ object: [String: Any], allowed: Set<String>, dropMyNumber: Bool) -> (object: [String: Any], sent: [String]) {
        var sent = Set<String>()
        let result = project(object, prefix: "", allowed: allowed, dropMyNumber: dropMyNumber, sent: &sent)
        return (result, sent.sorted())
    }

    static func project(_ object: [String: Any], prefix: String, allowed: Set<String>, dropMyNumber: Bool,
                        sent: inout Set<String>) -> [String: Any] {
        var result: [String: Any] = [:]
        for (key, value) in object {
            if dropMyNumber && key == "myNumber" { continue }
            let path = prefix + key
            if allowed.contains(path) {
                // A leaf the rule names: sent as is, but never an object or list smuggling more.
                if value is [String: Any] || value is [Any] { continue }
                result[key] = value
                sent.insert(path)
            } else if let nested = value as? [String: Any], allowed.contains(where: { $0.hasPrefix(path + ".") }) {
                result[key] = project(nested, prefix: path + ".", allowed: allowed, dropMyNumber: dropMyNumber, sent: &sent)
            } else if let list = value as? [Any], allowed.contains(where: { $0.hasPrefix(path + "[].") }) {
                result[key] = list.compactMap { element -> Any? in
                    guard let nested = element as? [String: Any] else { return nil }
                    return project(nested, prefix: path + "[].", allowed: allowed, dropMyNumber: dropMyNumber, sent: &sent)
                }
            }
        }
        return result
    }
}
