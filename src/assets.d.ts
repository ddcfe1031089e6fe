// Files imported `with { type: 'text' }` are their text (read at load, embedded in a compiled binary).
declare module 'swagger-ui-dist/swagger-ui-bundle.js' {
  const text: string
  export default text
}
declare module 'swagger-ui-dist/swagger-ui.css' {
  const text: string
  export default text
}
