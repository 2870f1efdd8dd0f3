// Side-effect imports the bundler handles.
declare module '*.css';
