import React, { useState } from "react";

type Props = { label: string; initial?: number };

export function Counter({ label, initial = 0 }: Props): JSX.Element {
  const [count, setCount] = useState(initial);
  return (
    <button onClick={() => setCount(count + 1)}>
      {label}: {count}
    </button>
  );
}

export const Badge = ({ text }: { text: string }) => <span className="badge">{text}</span>;

export default class Panel extends React.Component<Props> {
  render() {
    return <div>{this.props.label}</div>;
  }
}
