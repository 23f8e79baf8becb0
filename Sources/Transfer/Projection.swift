import Foundation
import KokiBase
import KokiDomain
import KokiSecrets

/// Keeps only the allowed fields of a JSON body. Paths are dot-separated; `name[]` descends
/// into each element of a list (`members[].atenaNo`). Anything not named is dropped, so a
/// field added upstream never leaks by default.
public enum Projection {
    /// The projected object and the paths actually sent.
    public static func project(_ object: [String: JSONValue], allowed: Set<String>, dropMyNumber: Bool) -> (object: [String: JSONValue], sent: [String]) {
        var sent = Set<String>()
        let result = project(object, prefix: "", allowed: allowed, dropMyNumber: dropMyNumber, sent: &sent)
        return (result, sent.sorted())
    }

    static func project(_ object: [String: JSONValue], prefix: String, allowed: Set<String>, dropMyNumber: Bool,
                        sent: inout Set<String>) -> [String: JSONValue] {
        var result: [String: JSONValue] = [:]
        for (key, value) in object {
            if dropMyNumber && key == "myNumber" { continue }
            let path = prefix + key
            if allowed.contains(path) {
                // A leaf the rule names: sent as is, but never an object or list smuggling more.
                switch value {
                case .object, .array: continue
                default:
                    result[key] = value
                    sent.insert(path)
                }
                continue
            }
            switch value {
            case .object(let nested) where allowed.contains(where: { $0.hasPrefix(path + ".") }):
                result[key] = .object(project(nested, prefix: path + ".", allowed: allowed, dropMyNumber: dropMyNumber, sent: &sent))
            case .array(let list) where allowed.contains(where: { $0.hasPrefix(path + "[].") }):
                result[key] = .array(list.compactMap { element -> JSONValue? in
                    guard case .object(let nested) = element else { return nil }
                    return .object(project(nested, prefix: path + "[].", allowed: allowed, dropMyNumber: dropMyNumber, sent: &sent))
                })
            default:
                continue
            }
        }
        return result
    }

    /// Opens every sealed `myNumber` value of a body (for a destination that may receive 個人番号).
    /// A sealed value opens only as the person of the `atenaNo` beside it (its associated data).
    /// A value that is not sealed is a 個人番号 only if it has 12 digits; anything else, or a
    /// value that does not open, stops the transfer.
    public static func openMyNumbers(_ object: [String: JSONValue], with opener: MyNumberOpener?) throws -> [String: JSONValue] {
        var result: [String: JSONValue] = [:]
        for (key, value) in object {
            switch value {
            case .string(let text) where key == "myNumber":
                if MyNumberKeys.isSealed(text) {
                    guard let opener else { throw MyNumberKeys.Failure("no 個人番号 opening keys to open a sealed value") }
                    guard case .string(let atenaNo)? = object["atenaNo"] else {
                        throw MyNumberKeys.Failure("a sealed 個人番号 has no atenaNo beside it to open as")
                    }
                    result[key] = .string(try opener.open(text, atenaNo: atenaNo))
                } else {
                    guard text.utf8.count == 12, text.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) else {
                        throw MyNumberKeys.Failure("a myNumber value is neither sealed nor 12 digits")
                    }
                    result[key] = value
                }
            case .object(let nested):
                result[key] = .object(try openMyNumbers(nested, with: opener))
            case .array(let list):
                result[key] = .array(try list.map { element in
                    guard case .object(let nested) = element else { return element }
                    return .object(try openMyNumbers(nested, with: opener))
                })
            default:
                result[key] = value
            }
        }
        return result
    }

    /// Every 宛名番号 a body is about: the message key and each value of a field named
    /// `atenaNo` or ending in `AtenaNo` (`deceasedAtenaNo`), at any depth; sorted, unique.
    /// Whether any string in the body is a 個人番号: twelve digits whose last is the check digit
    /// of the first eleven (a sealed one, `v2:<key id>:…`, is not digits).
    public static func containsMyNumber(_ object: [String: JSONValue]) -> Bool {
        func walk(_ value: JSONValue) -> Bool {
            switch value {
            case .object(let object): return object.values.contains(where: walk)
            case .array(let list): return list.contains(where: walk)
            case .string(let text): return text.utf8.count == 12 && MyNumber(text) != nil
            default: return false
            }
        }
        return walk(.object(object))
    }

    /// The people a body is about: every `atenaNo` / `…AtenaNo` in it, sorted. (The policy holds a
    /// transfer whose key is a 宛名番号 not among them, so they are everyone the transfer names.)
    public static func subjects(_ object: [String: JSONValue]) -> [String] {
        var found = Set<String>()
        func walk(_ value: JSONValue, name: String?) {
            switch value {
            case .object(let object):
                for (k, v) in object { walk(v, name: k) }
            case .array(let list):
                for element in list { walk(element, name: name) }
            case .string(let text):
                if let name, name == "atenaNo" || name.hasSuffix("AtenaNo") { found.insert(text) }
            default:
                break
            }
        }
        walk(.object(object), name: nil)
        return found.sorted()
    }
}
