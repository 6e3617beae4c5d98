// Vite bundles CSS imported for its side effects.
declare module '*.css';
// Vite emits the file as a hashed asset and the import is its URL (the offline base map's data).
declare module '*.json?url' {
  const url: string;
  export default url;
}
