// The web UI's entry point: mounts the app into the page the server serves at `/`.
import { render } from 'preact';
import { App } from './App.tsx';

render(<App />, document.getElementById('app')!);
