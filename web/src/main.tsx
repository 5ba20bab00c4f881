// The portal's entry: styles and the app, rendered into the page certkeep serve sends.
import { render } from 'preact';
import { App } from './app.tsx';
import './styles.css';

render(<App />, document.getElementById('app')!);
