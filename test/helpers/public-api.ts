/**
 * An api-extractor-like check over the package's entry points: which types
 * declared in src/ does a public signature name (a parameter, a return, a
 * property, a base type) that no entry point exports? A user writing typed
 * code cannot import such a type, so either it is exported or it is
 * deliberately internal and listed as such.
 *
 * It reads the sources with the TypeScript compiler API (no emit, so it
 * checks only the declarations it looks at): written type annotations are
 * resolved by name; where a declaration has none (an inferred return or
 * property type), the inferred type is walked instead, as a .d.ts would
 * print it. `typeof value` in a type is not followed (the value is how the
 * type is derived, not what a user names), nor are `private`, `#private`
 * and `@internal` members, nor a function's implementation signature when
 * it has overloads, nor the constructor and static members of a class that
 * is exported as a type only (nobody can reach them).
 */
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SRC = `${ROOT}src/`;

export interface ApiReference {
  /** The unexported type, as `Name (src/path.ts)`. */
  readonly type: string;
  /** The public declarations that name it. */
  readonly from: readonly string[];
}

export interface ApiReport {
  /** Every name the entry points export, types and values. */
  readonly exported: ReadonlySet<string>;
  /** Types a public signature reaches that no entry point exports, and are not `internal`. */
  readonly missing: readonly ApiReference[];
  /** The names in `internal` that a public signature did reach (the rest are stale). */
  readonly internalReached: ReadonlySet<string>;
}

/**
 * `entries`: the entry modules (src/index.ts, …); `internal`: names of types
 * that are deliberately not exported: they are reported nowhere and not
 * walked into.
 */
export function checkPublicApi(entries: readonly string[], internal: ReadonlySet<string>): ApiReport {
  const config = ts.getParsedCommandLineOfConfigFile(`${ROOT}tsconfig.json`, {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} });
  if (config === undefined) throw new Error('cannot read tsconfig.json');
  const program = ts.createProgram(
    entries.map((e) => `${ROOT}${e}`),
    config.options,
  );
  const checker = program.getTypeChecker();
  const resolve = (s: ts.Symbol): ts.Symbol => (s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s);
  const inSrc = (d: ts.Node): boolean => d.getSourceFile().fileName.startsWith(SRC);

  const exported = new Map<ts.Symbol, string>();
  /** Exported as values too: their constructors and static members are public (a type-only export has neither). */
  const values = new Set<ts.Symbol>();
  for (const entry of entries) {
    const file = program.getSourceFile(`${ROOT}${entry}`);
    const moduleSymbol = file === undefined ? undefined : checker.getSymbolAtLocation(file);
    if (moduleSymbol === undefined) throw new Error(`${entry}: not a module`);
    for (const s of checker.getExportsOfModule(moduleSymbol)) {
      const target = resolve(s);
      exported.set(target, s.name);
      if (!(s.declarations ?? []).some(typeOnly)) values.add(target);
    }
  }

  const missing = new Map<string, Set<string>>();
  const internalReached = new Set<string>();
  const walked = new Set<ts.Symbol>();
  const queue: ts.Symbol[] = [...exported.keys()];
  let current = '';

  function typeOnly(d: ts.Declaration): boolean {
    return ts.isExportSpecifier(d) && (d.isTypeOnly || d.parent.parent.isTypeOnly);
  }

  /** A named type a user would have to import: declared at the top level of a module in src/. */
  function nameable(s: ts.Symbol): boolean {
    if (s.flags & (ts.SymbolFlags.TypeParameter | ts.SymbolFlags.TypeLiteral | ts.SymbolFlags.ObjectLiteral)) return false;
    const decls = s.declarations ?? [];
    return decls.length > 0 && decls.some(inSrc) && decls.every((d) => ts.isSourceFile(d.parent) || ts.isModuleBlock(d.parent));
  }

  function reach(symbol: ts.Symbol): void {
    let s = resolve(symbol);
    const member = s.flags & ts.SymbolFlags.EnumMember ? s.declarations?.[0] : undefined;
    if (member !== undefined && ts.isEnumDeclaration(member.parent)) s = checker.getSymbolAtLocation(member.parent.name) ?? s;
    if (!nameable(s) || exported.has(s)) return;
    if (internal.has(s.name)) {
      internalReached.add(s.name);
      return;
    }
    const where = s.declarations![0]!.getSourceFile().fileName.slice(ROOT.length);
    const key = `${s.name} (${where})`;
    const from = missing.get(key) ?? new Set<string>();
    missing.set(key, from);
    from.add(current);
    queue.push(s);
  }

  /** Names written in a type annotation. */
  function typeNode(node: ts.Node | undefined): void {
    if (node === undefined) return;
    if (ts.isTypeQueryNode(node)) return;
    let named: ts.Symbol | undefined;
    if (ts.isTypeReferenceNode(node)) named = checker.getSymbolAtLocation(ts.isQualifiedName(node.typeName) ? node.typeName.right : node.typeName);
    else if (ts.isExpressionWithTypeArguments(node)) named = checker.getSymbolAtLocation(node.expression);
    else if (ts.isImportTypeNode(node)) {
      const t = checker.getTypeFromTypeNode(node);
      named = t.aliasSymbol ?? t.getSymbol();
    }
    if (named !== undefined) reach(named);
    ts.forEachChild(node, typeNode);
  }

  /** An inferred type, walked as the .d.ts would print it. */
  const seenTypes = new Set<ts.Type>();
  function inferred(type: ts.Type): void {
    if (seenTypes.has(type)) return;
    seenTypes.add(type);
    if (type.aliasSymbol !== undefined) {
      reach(type.aliasSymbol);
      for (const a of type.aliasTypeArguments ?? []) inferred(a);
      return;
    }
    if (type.isUnionOrIntersection()) {
      for (const t of type.types) inferred(t);
      return;
    }
    if (!(type.flags & ts.TypeFlags.Object)) return;
    const symbol = type.getSymbol();
    if (symbol !== undefined && nameable(symbol)) {
      reach(symbol);
      if ((type as ts.ObjectType).objectFlags & ts.ObjectFlags.Reference) for (const a of checker.getTypeArguments(type as ts.TypeReference)) inferred(a);
      return;
    }
    if (symbol !== undefined && !inSrcOrAnonymous(symbol)) {
      // A library's type (Promise, Map, an undici class): only its arguments are ours.
      if ((type as ts.ObjectType).objectFlags & ts.ObjectFlags.Reference) for (const a of checker.getTypeArguments(type as ts.TypeReference)) inferred(a);
      return;
    }
    for (const sig of [...type.getCallSignatures(), ...type.getConstructSignatures()]) signature(sig);
    for (const p of type.getProperties()) {
      const decl = p.valueDeclaration ?? p.declarations?.[0];
      if (decl !== undefined && hidden(decl)) continue;
      inferred(checker.getTypeOfSymbol(p));
    }
  }

  function inSrcOrAnonymous(s: ts.Symbol): boolean {
    const decls = s.declarations ?? [];
    return decls.length === 0 || decls.some(inSrc);
  }

  function signature(sig: ts.Signature): void {
    for (const p of sig.getParameters()) inferred(checker.getTypeOfSymbol(p));
    inferred(sig.getReturnType());
  }

  function hidden(decl: ts.Node): boolean {
    if (ts.canHaveModifiers(decl) && ts.getModifiers(decl)?.some((m) => m.kind === ts.SyntaxKind.PrivateKeyword)) return true;
    const name = (decl as { name?: ts.Node }).name;
    if (name !== undefined && ts.isPrivateIdentifier(name)) return true;
    return ts.getJSDocTags(decl).some((t) => t.tagName.text === 'internal');
  }

  /** A function-like declaration's public parts: type parameters, parameters and return, written or inferred. */
  function functionLike(decl: ts.SignatureDeclaration): void {
    for (const tp of decl.typeParameters ?? []) {
      typeNode(tp.constraint);
      typeNode(tp.default);
    }
    for (const p of decl.parameters) {
      if (p.type !== undefined) typeNode(p.type);
      else inferred(checker.getTypeAtLocation(p));
    }
    if (decl.type !== undefined) typeNode(decl.type);
    else if (!ts.isConstructorDeclaration(decl) && !ts.isSetAccessorDeclaration(decl)) {
      const sig = checker.getSignatureFromDeclaration(decl);
      if (sig !== undefined) inferred(sig.getReturnType());
    }
  }

  /** The implementation of an overloaded function is not callable from outside. */
  function isOverloadImplementation(decl: ts.FunctionLikeDeclaration): boolean {
    const symbol = decl.name === undefined ? undefined : checker.getSymbolAtLocation(decl.name);
    return decl.body !== undefined && (symbol?.declarations?.filter((d) => ts.isFunctionLike(d)).length ?? 0) > 1;
  }

  function member(m: ts.Node, valueSide: boolean): void {
    if (hidden(m)) return;
    const isStatic = ts.canHaveModifiers(m) && ts.getModifiers(m)?.some((x) => x.kind === ts.SyntaxKind.StaticKeyword) === true;
    if (!valueSide && (isStatic || ts.isConstructorDeclaration(m))) return;
    if (ts.isPropertyDeclaration(m) || ts.isPropertySignature(m)) {
      if (m.type !== undefined) typeNode(m.type);
      else inferred(checker.getTypeAtLocation(m));
    } else if (ts.isMethodDeclaration(m) || ts.isMethodSignature(m) || ts.isConstructorDeclaration(m) || ts.isGetAccessorDeclaration(m) || ts.isSetAccessorDeclaration(m)) {
      if ((ts.isMethodDeclaration(m) || ts.isConstructorDeclaration(m)) && isOverloadImplementation(m)) return;
      functionLike(m);
    } else if (ts.isCallSignatureDeclaration(m) || ts.isConstructSignatureDeclaration(m) || ts.isIndexSignatureDeclaration(m)) {
      functionLike(m);
    }
  }

  function declaration(decl: ts.Declaration, valueSide: boolean): void {
    if (hidden(decl)) return;
    if (ts.isInterfaceDeclaration(decl) || ts.isClassDeclaration(decl)) {
      for (const tp of decl.typeParameters ?? []) typeNode(tp.constraint);
      for (const h of decl.heritageClauses ?? []) for (const t of h.types) typeNode(t);
      for (const m of decl.members) member(m, valueSide);
    } else if (ts.isTypeAliasDeclaration(decl)) {
      for (const tp of decl.typeParameters ?? []) typeNode(tp.constraint);
      typeNode(decl.type);
    } else if (ts.isFunctionDeclaration(decl)) {
      if (!isOverloadImplementation(decl)) functionLike(decl);
    } else if (ts.isVariableDeclaration(decl)) {
      if (decl.type !== undefined) typeNode(decl.type);
      else inferred(checker.getTypeAtLocation(decl));
    }
  }

  while (queue.length > 0) {
    const symbol = queue.shift()!;
    if (walked.has(symbol)) continue;
    walked.add(symbol);
    current = exported.get(symbol) ?? symbol.name;
    for (const decl of symbol.declarations ?? []) if (inSrc(decl)) declaration(decl, values.has(symbol));
  }

  return {
    exported: new Set(exported.values()),
    missing: [...missing].map(([type, from]) => ({ type, from: [...from].sort() })).sort((a, b) => a.type.localeCompare(b.type)),
    internalReached,
  };
}
