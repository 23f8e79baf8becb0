import Foundation
import KokiSecrets

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

    /// Opens every sealed `myNumber` value of a projected body (the destination may receive
    /// 個人番号). A value that is not sealed is a 個人番号 only if it has 12 digits; anything
    /// else, or a value that does not open, stops the transfer.
    public static func openMyNumbers(_ object: [String: Any], with vault: MyNumberVault?) throws -> [String: Any] {
        var result: [String: Any] = [:]
        for (key, value) in object {
            if key == "myNumber", let text = value as? String {
                if MyNumberVault.isSealed(text) {
                    guard let vault else { throw MyNumberVault.Failure("no 個人番号 keyring to open a sealed value") }
                    result[key] = try vault.open(text)
                } else {
                    guard text.utf8.count == 12, text.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) else {
                        throw MyNumberVault.Failure("a myNumber value is neither sealed nor 12 digits")
                    }
                    result[key] = text
                }
            } else if let nested = value as? [String: Any] {
                result[key] = try openMyNumbers(nested, with: vault)
            } else if let list = value as? [Any] {
                result[key] = try list.map { element -> Any in
                    guard let nested = element as? [String: Any] else { return element }
                    return try openMyNumbers(nested, with: vault)
                }
            } else {
                result[key] = value
            }
        }
        return result
    }

    /// Every 宛名番号 a body is about: the message key and each value of a field named
    /// `atenaNo` or ending in `AtenaNo` (`deceasedAtenaNo`), at any depth; sorted, unique.
    public static func subjects(_ object: [String: Any], key: String?) -> [String] {
        var found = Set<String>()
        if let key, key.utf8.count == 10, key.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) { found.insert(key) }
        func walk(_ value: Any, name: String?) {
            if let object = value as? [String: Any] {
                for (k, v) in object { walk(v, name: k) }
            } else if let list = value as? [Any] {
                for element in list { walk(element, name: name) }
            } else if let text = value as? String, let name, name == "atenaNo" || name.hasSuffix("AtenaNo") {
                found.insert(text)
            }
        }
        walk(object, name: nil)
        return found.sorted()
    }
}
