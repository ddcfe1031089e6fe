// Console files imported `with { type: 'text' }` are their text (embedded in the compiled binary).
declare module '*.css' {
  const text: string
  export default text
}
declare module '*.js' {
  const text: string
  export default text
}
declare module '*.svg' {
  const text: string
  export default text
}
